"""``ffe --help`` loads the command-line layer only: no numba, no vendor SDK, no container, no
OpenTelemetry, no domain models. Checked in a fresh interpreter (``sys.modules``), not timed."""

from __future__ import annotations

import json
import subprocess
import sys

from ffe_core.domain.approvals import ApprovalStatus
from ffe_entrypoints.cli.commands_trading import APPROVAL_STATUSES

FORBIDDEN = (
    "numba",
    "opentelemetry",
    "anthropic",
    "openai",
    "google.genai",
    "ollama",
    "oandapyV20",
    "coinbase",
    "telegram",
    "dependency_injector",
    "sqlalchemy",
    "litestar",
    "pydantic",
    "ffe_entrypoints.container",
    "ffe_adapters",
)
PROBE = """
import json, sys
from ffe_entrypoints.cli.main import run
try:
    run(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(modules)


def heavy(modules: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    forbidden = [f for f in FORBIDDEN if f not in allowed]
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


def test_help_imports_no_numba_sdk_or_container() -> None:
    modules = loaded_by("--help")
    assert "ffe_entrypoints.cli.commands_trading" in modules  # every command was registered
    assert heavy(modules) == []
    # an event loop and a progress bar are for commands that run, not for the help screen
    assert sorted({"asyncio", "rich.progress"} & modules) == []


def test_a_subcommand_help_loads_no_numba_sdk_or_container() -> None:
    # typer itself converts a command's parameters with pydantic (typer._adapters)
    assert heavy(loaded_by("approvals", "list", "--help"), allowed=("pydantic",)) == []


def test_the_probe_sees_a_command_that_does_load_the_stack() -> None:
    assert "pydantic" in loaded_by("config", "show")  # settings were loaded: the probe works


def test_the_spelled_out_approval_statuses_are_the_enums() -> None:
    assert tuple(ApprovalStatus) == APPROVAL_STATUSES


def test_the_api_and_its_container_load_no_numba() -> None:
    """``ffe serve`` starts without the compiler: kernels load on the first backtest (the
    bar validator imported numba with the container and cost serve ~1 s of its start)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, ffe_entrypoints.container, ffe_entrypoints.api.app;"
            "print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "ffe_entrypoints.container" in modules
    assert sorted(m for m in modules if m == "numba" or m.startswith("numba.")) == []


SERVE_PATH = """
import json, sys
import ffe_entrypoints.api.app, ffe_entrypoints.container
from ffe_adapters.registry import load_registry
from ffe_entrypoints.api.swagger import swagger_assets_router
load_registry()
swagger_assets_router()
print(json.dumps(sorted(sys.modules)))
"""


def test_serve_loads_no_adapter_it_was_not_asked_for() -> None:
    """The registry lists every adapter without importing its implementation: with the default
    settings (bundled data, paper broker) no HTTP client, Parquet reader or template engine is
    nor SQLAlchemy's PostgreSQL dialect is loaded by
    ``ffe serve`` before its first answer (they cost its cold start ~50 ms of CPU)."""
    done = subprocess.run(
        [sys.executable, "-c", SERVE_PATH], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "ffe_adapters.market_data.alphavantage.plugin" in modules  # the probe saw the registry
    unasked = ("httpx", "tenacity", "pyarrow", "swagger_ui", "jinja2")
    assert sorted(m for m in modules if m.split(".")[0] in unasked) == []
    # backtest jobs (worker pool, parameter rules, replay stack) load with the first backtest
    assert "ffe_entrypoints.services.backtests" not in modules
    assert "ffe_entrypoints.services.replay" not in modules
    # a SQLite storage (the default) needs no PostgreSQL dialect
    assert sorted(m for m in modules if m.startswith("sqlalchemy.dialects.postgresql")) == []
