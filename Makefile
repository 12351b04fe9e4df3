# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs the project, runs the main job on the embedded default
#   make test   creates .venv, installs the project with its test extras, runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export BESTBETS_HOME ?= $(CURDIR)/.bestbets
export DAGSTER_HOME ?= $(BESTBETS_HOME)/dagster

.PHONY: run test dev schemas clean test-services

$(BIN)/.installed: pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/bestbets replay --start 2025-10-21 --end 2025-12-06

test: $(BIN)/.installed test-services
	$(BIN)/pytest

# Debian packages the tests use: headless Chromium renders the HTML report and the Dagster UI, and a
# PostgreSQL server holds the production-like Dagster instance. Installed only when missing.
test-services:
	@command -v chromium >/dev/null && { command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } \
	  || { apt-get update -qq && apt-get install -y -qq chromium postgresql >/dev/null; }

dev: $(BIN)/.installed
	$(BIN)/bestbets dev

schemas: $(BIN)/.installed
	$(BIN)/python -m bestbets_dagster.tables

clean:
	rm -rf $(VENV) .pytest_cache
