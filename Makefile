# The two commands of the README:
#   make run    start the sandbox Asterisk and the hotline on embedded defaults
#   make test   run the whole test suite (real Asterisk included)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-deploy deps lint check clean

$(BIN)/hotline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

deps: $(BIN)/hotline
	./scripts/system-deps

run: deps
	$(BIN)/hotline run

# The deploy test (the docker-compose stack, deploy/test/run) runs beside pytest, at a lower
# priority; its output goes to var/deploy-test.log and its status counts.
test: deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	@mkdir -p var; ./deploy/test/run >var/deploy-test.log 2>&1 & deploy=$$!; \
	$(BIN)/pytest -q -ra; tests=$$?; \
	wait $$deploy; status=$$?; \
	echo "--- make test-deploy (var/deploy-test.log):"; grep 'deploy-test:' var/deploy-test.log | tail -n 25; \
	[ $$status -eq 0 ] || tail -n 40 var/deploy-test.log; \
	[ $$tests -eq 0 ] && [ $$status -eq 0 ]

test-deploy: deps
	./deploy/test/run

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	-$(BIN)/hotline sandbox down
	rm -rf $(VENV) var
