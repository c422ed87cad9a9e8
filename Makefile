# The two commands a newcomer needs: `make demo` and `make test`.  Both bootstrap a fresh Debian
# machine (system packages when root, .venv, editable install) before doing their job.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: bootstrap demo test lint typecheck unit pcscd-start pcscd-stop bench clean
.PHONY: dist windows bench-frozen sim translations crash evidence

## English translation of the window (Japanese is the source language).
QM := ui/i18n/mykey_en.qm

bootstrap:
	@scripts/bootstrap.sh

$(QM): ui/i18n/mykey_en.ts | bootstrap
	$(VENV)/bin/pyside6-lrelease -silent $< -qm $@

translations: $(QM)

pcscd-start: bootstrap
	@scripts/pcscd.sh start

pcscd-stop:
	@scripts/pcscd.sh stop

## The terminal in demo mode on embedded defaults (virtual card, local ledger on SQLite).
demo: pcscd-start $(QM)
	@$(VENV)/bin/mykey demo

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: bootstrap
	$(VENV)/bin/mypy

## Everything CI runs: lint, types, the whole test suite (pcscd, vpcd, OpenSC, PostgreSQL,
## the GUI offscreen), a few hundred simulation seeds, and the frozen app's self-test.
test: pcscd-start lint typecheck $(QM)
	$(PY) -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory sim SEEDS=$(or $(SEEDS),300)
	$(MAKE) --no-print-directory dist

## The deterministic simulation: `make sim SEEDS=10000` for the long run.
sim: bootstrap
	$(PY) -m sim --seeds $(or $(SEEDS),300)

## Only the fast tests that need no daemon.
unit: bootstrap $(QM)
	$(PY) -m pytest -m "not pcsc and not opensc and not postgres" $(PYTEST_ARGS)

bench: pcscd-start $(QM)
	$(PY) bench/card_auth.py
	$(PY) bench/ledger_ingest.py
	$(PY) bench/counter_flow.py
	$(PY) bench/sync_catchup.py
	$(PY) bench/qr_decode.py

## Real-process crash cycles (kill -9 of server and terminals under load); CI runs 5.
CYCLES ?= 100
crash: pcscd-start
	MYKEY_CRASH_CYCLES=$(CYCLES) $(PY) -m pytest tests/crash -o timeout=7200 $(PYTEST_ARGS)

## Everything in issue 8 at report size, written to docs/EVIDENCE.md.
evidence: pcscd-start $(QM)
	$(PY) -m pip install -q -e '.[fuzz]'
	$(PY) scripts/evidence.py

## The Linux one-folder app in dist/mykey/ (build.spec), then its self-test and the whole demo
## story through the real card stack, both headless.
dist: pcscd-start $(QM)
	$(PY) -m pip install -q -e '.[dist]'
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller build.spec
	QT_QPA_PLATFORM=offscreen dist/mykey/mykey-debug --selftest
	rm -rf build/frozen-demo
	dist/mykey/mykey-debug demo --headless --pcsc --out build/frozen-demo

## The Windows app and its installer, built and self-tested under Wine (see docs/INSTALLERS.md).
windows: bootstrap
	@scripts/windows/build.sh

## Installed size and cold start of the frozen app next to `python -m mykey` (after `make dist`).
bench-frozen: dist
	$(PY) bench/frozen.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
