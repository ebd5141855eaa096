# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-quick lint bench docs clean

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
## Fails when scripts/test-services.sh fails or any service is missing (no test skips).
test: install lint
	services="$$(bash scripts/test-services.sh)" && eval "$$services" && \
	  NTK_TEST_SERVICES=required $(BIN)/python -m pytest -q -n auto --dist loadfile

## The suite without starting services: tests that need PostgreSQL, SoftHSM2 or Java skip.
test-quick: install
	@echo "test-quick: services are optional; their tests skip (make test runs them all)"
	NTK_TEST_SERVICES=optional $(BIN)/python -m pytest -q -n auto --dist loadfile

lint: install
	$(BIN)/ruff check needtoknow tests benchmarks scripts
	$(BIN)/ruff format --check needtoknow tests benchmarks scripts
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/bench_policy.py
	$(BIN)/python benchmarks/bench_vault.py
	$(BIN)/python benchmarks/bench_ledger.py
	$(BIN)/python benchmarks/bench_http.py
	$(BIN)/python benchmarks/bench_asgi.py
	$(BIN)/python benchmarks/bench_detect.py
	$(BIN)/python benchmarks/bench_analytics.py
	$(BIN)/python benchmarks/bench_scope.py

clean:
	rm -rf $(VENV) .ntk .pytest_cache .mypy_cache .ruff_cache

## Regenerate docs/cli.md from the commands' --help.
docs: install
	$(BIN)/python scripts/cli_reference.py
	$(BIN)/python scripts/records_reference.py
