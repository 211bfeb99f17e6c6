# ffe: two commands.
#   make run   - set up from a fresh clone and run API + dashboard + agent (paper mode) on :8000
#   make test  - set up and run every check (lint, types, import contract, tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NPM := $(shell command -v npm 2>/dev/null)

.PHONY: run test install system-deps check lint typecheck contracts pytest frontend-build frontend-test clean

$(STAMP): pyproject.toml plugins/ffe-plugin-example/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ffe needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e plugins/ffe-plugin-example
	@touch $(STAMP)

install: $(STAMP)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend-build:
ifneq ($(NPM),)
	@$(MAKE) --no-print-directory frontend/node_modules/.package-lock.json
	cd frontend && npm run build
else
	@echo "npm not found: serving the API without the dashboard"
endif

frontend-test:
ifneq ($(NPM),)
	@$(MAKE) --no-print-directory frontend/node_modules/.package-lock.json
	cd frontend && npm run typecheck && npm test
else
	@echo "npm not found: skipping the dashboard's unit tests"
endif

system-deps:
	@scripts/system-deps.sh

run: install frontend-build
	$(BIN)/ffe db upgrade
	$(BIN)/ffe serve --agent

lint: install
	$(BIN)/ruff check src tests plugins benchmarks
	$(BIN)/ruff format --check src tests plugins benchmarks

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

pytest: install system-deps frontend-build
	$(BIN)/pytest

check: lint typecheck contracts

test: check frontend-test pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
