# The two commands a newcomer needs: `make demo` and `make test`.  Both bootstrap a fresh Debian
# machine (system packages when root, .venv, editable install) before doing their job.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: bootstrap demo test lint typecheck unit pcscd-start pcscd-stop bench clean

bootstrap:
	@scripts/bootstrap.sh

pcscd-start: bootstrap
	@scripts/pcscd.sh start

pcscd-stop:
	@scripts/pcscd.sh stop

## The terminal in demo mode on embedded defaults (virtual card, local ledger on SQLite).
demo: pcscd-start
	@$(VENV)/bin/mykey demo

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: bootstrap
	$(VENV)/bin/mypy

## Everything CI runs: lint, types, and the whole test suite (pcscd, vpcd, OpenSC, PostgreSQL).
test: pcscd-start lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

## Only the fast tests that need no daemon.
unit: bootstrap
	$(PY) -m pytest -m "not pcsc and not opensc and not postgres" $(PYTEST_ARGS)

bench: pcscd-start
	$(PY) bench/card_auth.py
	$(PY) bench/ledger_ingest.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
