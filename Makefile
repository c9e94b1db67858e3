# Two commands from a fresh machine:
#   make run    installs the app and starts it on the embedded demo data (no credentials needed)
#   make test   installs everything the tests need (Debian's chromium included) and runs
#               ruff, mypy and all the tests, the browser tests among them
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= 127.0.0.1
# Extra `streamlit run` flags, e.g. behind a sign-in proxy:
#   make run RUN_ARGS="--server.trustedUserHeaders '{\"X-Forwarded-Email\": \"email\"}'"
RUN_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test check lint typecheck unit e2e bench demo-data chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps re-install only when pyproject.toml changes.
$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-app

run: $(VENV)/.installed-app
	$(BIN)/streamlit run app.py --server.headless true --server.address $(ADDRESS) \
		--server.port $(PORT) --browser.gatherUsageStats false --server.fileWatcherType none \
		$(RUN_ARGS)

# Playwright drives Debian's chromium: its own browser download cannot work offline.
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@# The PDF tests read invoices back with pdftotext (poppler-utils).
	@command -v pdftotext >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test: $(VENV)/.installed-dev chromium lint typecheck
	$(BIN)/pytest

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -m "not e2e"

e2e: $(VENV)/.installed-dev chromium
	$(BIN)/pytest -m e2e

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/sync.py
	$(BIN)/python benchmarks/invoices.py
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/browser.py
	$(BIN)/python benchmarks/delivery.py
	$(BIN)/python benchmarks/pdf_scripts.py

demo-data: $(VENV)/.installed-dev
	$(BIN)/python -m sales_core.demo --out data/demo

clean:
	rm -rf $(VENV) data/sales.duckdb data/sales.duckdb.wal data/invoices data/bench
