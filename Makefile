# One-command entry points (see README). Everything runs from the project's own virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/var/dagster_home
PORT ?= 3000

.PHONY: setup run test dev bench profile lint screenshot clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## setup: create .venv and install the project with its dev tools
setup: $(STAMP)

## run: materialize every asset into the DuckDB warehouse (offline by default)
run: setup
	$(BIN)/ccp run

## test: the whole test suite (what CI runs)
test: setup
	$(BIN)/pytest -q

## dev: the Dagster UI on http://127.0.0.1:3000 (`make dev PORT=3001` for another port)
dev: setup
	$(BIN)/python -c "import sys; from pipelines.preflight import prepare_ui_main; sys.exit(prepare_ui_main())"
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

## bench: ingest benchmark on a full-size file served from 127.0.0.1 (not part of the tests)
bench: setup
	$(BIN)/python -m tests.benchmarks.suite

## profile: where the live ingest's time goes, sampled with py-spy (PROFILE_ARGS="--only NAME" for another)
profile: setup
	$(BIN)/python -m tests.benchmarks.profiler $(PROFILE_ARGS)

## lint: ruff
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## screenshot: refresh the README's pictures: the Dagster UI and one report (needs chromium; run `make run` first)
screenshot: setup
	$(BIN)/python -m tests.support.ui_screenshot docs/img/asset-graph.png
	$(BIN)/python -m tests.support.report_browser var/reports/2025A01/digital-technology.html docs/img/report.png

clean:
	rm -rf var
