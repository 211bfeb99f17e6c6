# ffe: two commands.
#   make run   - set up from a fresh clone and run API + dashboard + agent (paper mode) on :8000
#   make test  - set up and run every check (lint, types, import contract, tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NPM := $(shell command -v npm 2>/dev/null)

.PHONY: run test install system-deps check lint typecheck contracts pytest frontend-build frontend-test clean

# The dashboard is rebuilt only when what goes into it changed (its unit tests don't).
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f -not -name '*.test.ts' -not -name '*.test.tsx' -not -path 'frontend/src/test/*' 2>/dev/null) \
	frontend/index.html frontend/package-lock.json frontend/vite.config.ts \
	$(wildcard frontend/tsconfig*.json)
DIST_STAMP := frontend/dist/index.html

$(STAMP): pyproject.toml plugins/ffe-plugin-example/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ffe needs Python >= 3.11"'
	@echo "==> Creating $(VENV) and installing ffe with its dependencies (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]' -e plugins/ffe-plugin-example
	@echo "==> Compiling the backtester's kernels once (else the first backtest or replay waits ~15 s)"
	@scripts/warm-kernels.sh $(BIN) || echo "    not compiled now: the first backtest will compile them"
	@touch $(STAMP)

install: $(STAMP)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	@echo "==> Installing the dashboard's npm packages"
	cd frontend && npm ci --no-audit --no-fund --progress=true

$(DIST_STAMP): frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	@echo "==> Building the dashboard (its sources changed)"
	cd frontend && npm run build
	@touch $(DIST_STAMP)

frontend-build:
ifneq ($(NPM),)
	@$(MAKE) --no-print-directory $(DIST_STAMP)
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
