# Everything a fresh machine with Python >= 3.11 and make needs: the virtual environment, the locked
# dependencies, this package. `make demo` runs the refresh on the bundled sample data; `make test`
# runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# front-end files the report bundles (package.json: the maps' country geometry), from the npm registry
NODE_STAMP := node_modules/.installed

.PHONY: install demo airflow test test-fast lint bench clean lock

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the report's map geometry: apt-get install -y npm" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

demo: $(STAMP) $(NODE_STAMP)
	$(BIN)/cstrack warehouse start
	$(BIN)/cstrack refresh

# Airflow's web UI on the embedded warehouse (the DAGs, their runs, task logs, Asset schedules); Ctrl-C stops it.
airflow: $(STAMP) $(NODE_STAMP)
	$(BIN)/cstrack warehouse start
	$(BIN)/cstrack airflow ui --port $${AIRFLOW_PORT:-8080}

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest

# The tests that need no database, no dbt build, no browser and no Airflow run (pytest marker `fast`):
# under 2 minutes, for the edit-test loop.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m fast

# What CI checks besides the tests: Python lint and formatting (ruff, configured in pyproject.toml) and the
# dbt models' SQL (sqlfluff with the dbt templater, dbt/.sqlfluff; it compiles the models against the
# PostgreSQL server of CSTRACK_PGHOST, default 127.0.0.1:5432).
lint: $(STAMP)
	$(BIN)/ruff check plugins dags tests benchmarks
	$(BIN)/ruff format --check plugins dags tests benchmarks
	cd dbt && CSTRACK_PGHOST=$${CSTRACK_PGHOST:-127.0.0.1} DBT_PROFILES_DIR=. ../$(BIN)/sqlfluff lint models

# Every benchmark against its baseline in one run (benchmarks/README.md): about 22 minutes on the idle
# 2-core machine (30 beside the test suite), most of it building marts from 10^7 posts.
# Needs the PostgreSQL server of WAREHOUSE_URL (default 127.0.0.1:5432). BENCH_ARGS=--quick: small sizes.
bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Re-pin after changing pyproject.toml's dependencies (needs network access to PyPI).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable > requirements.lock && rm -rf .lock-venv

clean:
	-$(BIN)/cstrack warehouse stop
	rm -rf .warehouse
