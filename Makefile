# The two commands of the README:
#   make run    start the sandbox Asterisk and the hotline on embedded defaults
#               (make run LINE=coalition: one of the shipped lines in lines/, its own
#               settings lines/<line>/hotline.yaml, database and var dir under var/lines/)
#   make test   run the whole test suite (real Asterisk included)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LINE ?=

.PHONY: run test test-deploy deps lint check clean

$(BIN)/hotline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

deps: $(BIN)/hotline
	./scripts/system-deps

run: deps
ifeq ($(strip $(LINE)),)
	$(BIN)/hotline run
else
	@test -f lines/$(LINE)/hotline.yaml || { echo "no line '$(LINE)'; the lines: $$(ls lines | tr '\n' ' ')" >&2; exit 2; }
	HOTLINE_CONFIG=lines/$(LINE)/hotline.yaml $(BIN)/hotline run
endif

# Beside pytest run, each with its status counting:
#  - the deploy test (the docker-compose stack, deploy/test/run), at a lower priority; its
#    output goes to var/deploy-test.log;
#  - the tests marked `beside` (long and mostly idle, e.g. PostgreSQL away for ten minutes), in
#    a second pytest with its own Asterisk, service and ports (shifted by 1000); its output goes
#    to var/beside.log.
test: deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	@mkdir -p var; ./deploy/test/run >var/deploy-test.log 2>&1 & deploy=$$!; \
	HOTLINE_E2E_PORT_OFFSET=1000 $(BIN)/pytest -q -ra -m beside -p no:cacheprovider \
	  --basetemp=var/pytest-beside >var/beside.log 2>&1 & beside=$$!; \
	$(BIN)/pytest -q -ra -m 'not beside'; tests=$$?; \
	wait $$beside; besides=$$?; \
	wait $$deploy; status=$$?; \
	echo "--- the tests marked beside (var/beside.log):"; \
	if [ $$besides -eq 0 ]; then tail -n 3 var/beside.log; else tail -n 150 var/beside.log; fi; \
	echo "--- make test-deploy (var/deploy-test.log):"; grep 'deploy-test:' var/deploy-test.log | tail -n 25; \
	[ $$status -eq 0 ] || tail -n 40 var/deploy-test.log; \
	[ $$tests -eq 0 ] && [ $$besides -eq 0 ] && [ $$status -eq 0 ]

test-deploy: deps
	./deploy/test/run

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	-$(BIN)/hotline sandbox down
	rm -rf $(VENV) var
