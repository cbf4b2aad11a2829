# govledger: every target sets itself up (virtual environment, Python and system packages).
# `make demo` runs the main job on the embedded SQLite default; `make test` runs lint and the whole suite.

PYTHON ?= python3
VENV ?= .venv
DEMO_PORT ?= 8000
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# Debian packages the project needs (installed with apt-get when run as root); chromium is for the
# console's browser tests (Playwright drives the system browser: it cannot download its own here).
SYSTEM_PACKAGES ?= libharfbuzz-subset0 poppler-utils fonts-dejavu-core chromium

.PHONY: setup system-packages demo test lint format bench bench-service bench-gate bench-reasons bench-install clean \
	report-images report-pngs ui-screenshots bench-console

setup: $(STAMP)

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,dev]'
	@rm -f $(VENV)/.installed-*; touch $@

demo: setup
	$(VENV)/bin/govledger demo --port $(DEMO_PORT)

# docs/reports/KIND-first.png and KIND-inner.png: page 1 and the middle page of the report of each
# kind the demo issues (the first in name order), at 60 dpi, as the README shows them.
# `report-pngs` only rasterises out/demo/reports/ (after a demo run).
report-images: setup
	$(VENV)/bin/govledger demo --no-serve
	@$(MAKE) --no-print-directory report-pngs

report-pngs:
	@mkdir -p docs/reports && rm -f docs/reports/*.png
	@for pdf in out/demo/reports/*.pdf; do \
	  name=$$(basename $$pdf .pdf); \
	  case $$name in adverse-action*) kind=adverse-action;; bias-audit*) kind=bias-audit;; *) kind=$${name%%-*};; esac; \
	  if [ -e docs/reports/$$kind-first.png ]; then continue; fi; \
	  pages=$$(pdfinfo $$pdf | awk '/^Pages:/ {print $$2}'); \
	  inner=$$(( (pages + 1) / 2 )); if [ $$inner -lt 2 ] && [ $$pages -ge 2 ]; then inner=2; fi; \
	  pdftoppm -r 60 -png -f 1 -l 1 -singlefile $$pdf docs/reports/$$kind-first; \
	  if [ $$pages -ge 2 ]; then pdftoppm -r 60 -png -f $$inner -l $$inner -singlefile $$pdf docs/reports/$$kind-inner; fi; \
	  echo "docs/reports/$$kind: $$name, page 1 and page $$inner of $$pages"; \
	done

lint: setup
	$(VENV)/bin/ruff check ledger policies reports console govledger tests bench alembic
	$(VENV)/bin/ruff format --check ledger policies reports console govledger tests bench alembic
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -q

format: setup
	$(VENV)/bin/ruff format ledger policies reports console govledger tests bench alembic
	$(VENV)/bin/ruff check --fix ledger policies reports console govledger tests bench alembic

bench: setup
	$(PY) -m bench.ledger_bench

bench-service: setup
	$(PY) -m bench.service_bench

bench-gate: setup
	$(PY) -m bench.gate_bench

bench-reasons: setup
	$(PY) -m bench.reasons_bench

bench-install: setup
	$(PY) -m bench.install_bench

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis

ui-screenshots: setup
	GOVLEDGER_UI_SCREENSHOTS=docs/ui $(PY) -m pytest -q -p no:cacheprovider tests/console/test_console_browser.py

bench-console: setup
	$(PY) -m bench.console_bench
