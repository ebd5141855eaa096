# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the main job on the embedded defaults (SQLite + local key file under ./.ntk).
run: install
	$(BIN)/ntk demo --serve

## Lint, type-check and run the whole suite against SQLite, PostgreSQL and SoftHSM2.
test: install lint
	eval "$$(bash scripts/test-services.sh)" && $(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check needtoknow tests benchmarks scripts
	$(BIN)/ruff format --check needtoknow tests benchmarks scripts
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/bench_policy.py
	$(BIN)/python benchmarks/bench_vault.py
	$(BIN)/python benchmarks/bench_ledger.py
	$(BIN)/python benchmarks/bench_http.py
	$(BIN)/python benchmarks/bench_detect.py
	$(BIN)/python benchmarks/bench_analytics.py

clean:
	rm -rf $(VENV) .ntk .pytest_cache .mypy_cache .ruff_cache

## Regenerate docs/cli.md from the commands' --help.
docs: install
	$(BIN)/python scripts/cli_reference.py
