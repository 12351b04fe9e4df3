# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs requirements.lock and the project, runs the main job on the embedded default
#   make test   the same install, then the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export BESTBETS_HOME ?= $(CURDIR)/.bestbets
export DAGSTER_HOME ?= $(BESTBETS_HOME)/dagster

.PHONY: run test dev schemas docs clean test-services lock

# The exact versions of requirements.lock (hashes checked), then the project itself without resolving again.
$(BIN)/.installed: pyproject.toml setup.cfg requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
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

# docs/cli.md and docs/asset-graph.md, generated from the commands and the definitions.
docs: $(BIN)/.installed
	$(BIN)/python -m bestbets_dagster.commands.reference

# requirements.lock written again from pyproject.toml (after a dependency changes): uv's resolver, Python 3.11.
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --annotation-style line --no-header -o requirements.lock.new
	{ sed -n 1,2p requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock && rm requirements.lock.new

clean:
	rm -rf $(VENV) .pytest_cache
