# The two commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python scripts/run.py

# The fault tests start their own Redis, workers and beat and re-point the Celery app at them:
# they run in a process of their own so no connection state leaks into the other tests.
test: $(BIN)/.installed
	$(BIN)/python scripts/engines.py -- $(BIN)/python -m pytest -m "not fault" $(PYTEST_ARGS)
	$(BIN)/python scripts/engines.py -- $(BIN)/python -m pytest -m fault $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
