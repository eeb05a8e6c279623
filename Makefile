# The two commands a user needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format install install-dev migrate demo bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11+); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

## run: install, migrate the SQLite database, load the demo world if empty, serve on :8000
run: $(STAMP)
	$(BIN)/opencx migrate
	$(BIN)/opencx demo --if-empty
	$(BIN)/opencx serve

## test: install the dev dependencies, lint, and run the whole test suite
test: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest -n 2 --dist loadscope

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks

format: $(DEV_STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

migrate: $(STAMP)
	$(BIN)/opencx migrate

demo: $(STAMP)
	$(BIN)/opencx demo

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
