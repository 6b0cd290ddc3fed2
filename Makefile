# The two commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint scan

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python scripts/run.py

# The fault tests start their own Redis, workers and beat and re-point the Celery app at them:
# they run in a process of their own so no connection state leaks into the other tests.
# The browser tests drive Debian's Chromium; without it they are left out, said in one line.
CHROMIUM ?= /usr/bin/chromium

test: $(BIN)/.installed
	@if [ -x "$(CHROMIUM)" ]; then marks="not fault"; else \
	  echo "Chromium absent : tests navigateur ignorés (apt-get install chromium)"; marks="not fault and not browser"; fi; \
	  $(BIN)/python scripts/engines.py -- $(BIN)/python -m pytest -m "$$marks" $(PYTEST_ARGS)
	$(BIN)/python scripts/engines.py -- $(BIN)/python -m pytest -m fault $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Wapiti against the portal on loopback (anonymous, then as the demo applicant): docs/SECURITY.md.
scan: $(BIN)/.installed
	$(BIN)/python scripts/security_scan.py
