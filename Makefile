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

test: deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -ra

test-deploy: deps
	./deploy/test/run

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	-$(BIN)/hotline sandbox down
	rm -rf $(VENV) var
