# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs the project, runs the main job on the embedded default
#   make test   creates .venv, installs the project with its test extras, runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export BESTBETS_HOME ?= $(CURDIR)/.bestbets
export DAGSTER_HOME ?= $(BESTBETS_HOME)/dagster

.PHONY: run test dev schemas clean browser

$(BIN)/.installed: pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/bestbets replay --start 2025-10-21 --end 2025-12-06

test: $(BIN)/.installed browser
	$(BIN)/pytest

# Headless Chromium renders the HTML report and the Dagster UI in the tests (Debian's package).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

dev: $(BIN)/.installed
	$(BIN)/bestbets dev

schemas: $(BIN)/.installed
	$(BIN)/python -m bestbets_dagster.tables

clean:
	rm -rf $(VENV) .pytest_cache
