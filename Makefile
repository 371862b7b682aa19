# justdriving — developer tasks. Needs only python3 and make on a fresh machine.
#
#   make            same as `make test`
#   make run        web app + worker + a demo invoice to pay, on fakes (no configuration needed)
#   make test       pytest; pass extra arguments with PYTEST_ARGS='-k money -x'
#   make lint       ruff, ruff format --check, mypy --strict, import-linter contracts, bandit
#   make audit      pip-audit of the installed dependencies (scripts/audit.py)
#   make bench      scripted measurements (benchmarks/), never timed tests
#   make sandbox    the `sandbox`-marked suites against the providers' real test modes (README
#                   lists the credentials); their exchanges are checked against the same specs
#   make clean      caches and build output;  make distclean  also removes .venv

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,postgres,celery,redis,flask,stripe,paypal,mobilepay,sendgrid,mailgun,twilio,gatewayapi,xero,quickbooks,webhooks
PYTEST_ARGS ?=

.DEFAULT_GOAL := test
.PHONY: venv .venv test lint audit run bench sandbox clean distclean

# The virtualenv is (re)installed whenever pyproject.toml changes.
venv .venv: $(STAMP)

# The first install takes a minute or two: each step says what it is doing, and pip shows a
# line per package it collects (without the noise of every requirement already satisfied).
$(STAMP): pyproject.toml
	@echo "==> Setting up $(VENV): first run only (about 1-2 minutes); later runs start at once"
	@test -x $(BIN)/python || { echo "==> Creating the virtualenv $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> Upgrading pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> Installing justdriving and its extras: $(EXTRAS)"
	@$(BIN)/python -m pip install --progress-bar off -e '.[$(EXTRAS)]' \
		| grep --line-buffered -E '^(Collecting|Successfully installed)' \
		| sed -u -e 's/^Collecting /    collecting /' -e 's/^Successfully installed /    installed: /'; \
		exit $${PIPESTATUS[0]}
	@touch $@
	@echo "==> $(VENV) is ready"

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Each sandbox test skips unless its provider's credentials are set; with them, the exchanges
# recorded on the way are validated against tests/specs/ as the simulators' are.
sandbox: $(STAMP)
	JUSTDRIVING_SPEC_FIGURES=$${JUSTDRIVING_SPEC_FIGURES:-sandbox-fidelity.json} \
		$(BIN)/python -m pytest -m sandbox -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/bandit --quiet --recursive src --severity-level medium

audit: $(STAMP)
	$(BIN)/python scripts/audit.py

run: $(STAMP)
	$(BIN)/justdriving run

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	@if [ -f benchmarks/__main__.py ]; then \
		$(BIN)/python -m benchmarks; \
	else \
		echo "no benchmarks yet (benchmarks/__main__.py does not exist)"; \
	fi

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
