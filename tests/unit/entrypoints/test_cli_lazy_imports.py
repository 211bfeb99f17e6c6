"""``ffe --help`` loads the command-line layer only: no numba, no vendor SDK, no container, no
OpenTelemetry, no domain models. Checked in a fresh interpreter (``sys.modules``), not timed."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import ffe_adapters
import ffe_core
import ffe_core.config
import ffe_entrypoints
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


def loaded_by(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(modules)


def imported_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``, which prints
    ``json.dumps(sorted(sys.modules))`` last."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def heavy(modules: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    forbidden = [f for f in FORBIDDEN if f not in allowed]
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


def test_help_imports_no_numba_sdk_or_container() -> None:
    modules = loaded_by("--help")
    assert "ffe_entrypoints.cli.main" in modules  # the probe saw the CLI
    # the help lists every command without importing one (``cli.lazy_group.COMMANDS``)
    assert sorted(m for m in modules if m.startswith("ffe_entrypoints.cli.commands_")) == []
    assert heavy(modules) == []
    # an event loop and a progress bar are for commands that run, not for the help screen
    assert sorted({"asyncio", "rich.progress"} & modules) == []


def test_a_subcommand_help_loads_no_numba_sdk_or_container() -> None:
    # typer itself converts a command's parameters with pydantic (typer._adapters)
    modules = loaded_by("approvals", "list", "--help")
    assert heavy(modules, allowed=("pydantic",)) == []
    commands = sorted(m for m in modules if m.startswith("ffe_entrypoints.cli.commands_"))
    assert commands == ["ffe_entrypoints.cli.commands_trading"]  # its own module only


def test_the_probe_sees_a_command_that_does_load_the_stack() -> None:
    assert "pydantic" in loaded_by("config", "show")  # settings were loaded: the probe works


def test_the_spelled_out_approval_statuses_are_the_enums() -> None:
    assert tuple(ApprovalStatus) == APPROVAL_STATUSES


def test_the_api_and_its_container_load_no_numba() -> None:
    """``ffe serve`` starts without the compiler: kernels load on the first backtest (the
    bar validator imported numba with the container and cost serve ~1 s of its start)."""
    modules = imported_by(
        "import json, sys, ffe_entrypoints.container, ffe_entrypoints.api.app;"
        "print(json.dumps(sorted(sys.modules)))"
    )
    assert "ffe_entrypoints.container" in modules
    assert sorted(m for m in modules if m == "numba" or m.startswith("numba.")) == []


def test_a_decision_on_the_embedded_defaults_loads_no_numba(tmp_path: Path) -> None:
    """``ffe decide`` computes its indicators on a few hundred bars: the tiered kernels run them
    as Python, and the compiler (~0.5 s of the command) is never loaded."""
    env = {**os.environ, "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}"}
    modules = loaded_by("decide", "BTC-USD", cwd=tmp_path, env=env)
    assert "ffe_core.indicators" in modules  # the probe saw indicators computed
    assert sorted(m for m in modules if m == "numba" or m.startswith("numba.")) == []


def test_the_container_loads_no_web_framework() -> None:
    """Commands such as ``ffe decide`` build the container: Litestar is ``ffe serve``'s (the
    decision feed's encoder imported it with the container and cost them ~0.1 s)."""
    modules = imported_by(
        "import json, sys, ffe_entrypoints.container; print(json.dumps(sorted(sys.modules)))"
    )
    assert "ffe_entrypoints.services.decision_feed" in modules  # the probe saw the feed
    assert sorted(m for m in modules if m.split(".")[0] == "litestar") == []


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
    modules = imported_by(SERVE_PATH)
    assert "ffe_adapters.market_data.alphavantage.plugin" in modules  # the probe saw the registry
    unasked = ("httpx", "tenacity", "pyarrow", "swagger_ui", "jinja2")
    assert sorted(m for m in modules if m.split(".")[0] in unasked) == []
    # backtest jobs (worker pool, parameter rules, replay stack) load with the first backtest
    assert "ffe_entrypoints.services.backtests" not in modules
    assert "ffe_entrypoints.services.replay" not in modules
    # a SQLite storage (the default) needs no PostgreSQL dialect
    assert sorted(m for m in modules if m.startswith("sqlalchemy.dialects.postgresql")) == []


SERVE_APP = """
import json, sys
from pydantic import BaseModel
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.cli.state import CliState
from ffe_entrypoints.container import build_container
from ffe_entrypoints.services.live_gate import check_live_start

settings = CliState().settings()
check_live_start(settings)
create_app(build_container(settings), start_agent=False, started=True)

def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

built = sorted(
    f"{m.__module__}.{m.__qualname__}" for m in models(BaseModel) if m.__pydantic_complete__
)
print(json.dumps({"modules": sorted(sys.modules), "built": built}))
"""


def test_serve_builds_its_app_without_the_backtester_or_unused_models(tmp_path: Path) -> None:
    """What ``ffe serve`` does before it listens (paper mode, the defaults) loads no backtester
    (the live gate's criteria are imported only in live mode) and builds no validator of the
    API's or the domain's models: they are built on first use (``defer_build``). They cost the
    cold start ~0.1 s and ~0.07 s of CPU."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    env |= {
        "FFE_CONFIG_DIR": str(tmp_path),
        "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", SERVE_APP],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    modules, built = set(seen["modules"]), seen["built"]
    assert "ffe_core.domain.flight" in modules  # the probe built the API
    assert "ffe_core.config.Settings" in built  # the probe sees a built model
    assert "ffe_core.backtest.live_gate" not in modules
    # the API's own models, and the domain's the API only serves (instruments and quotes the
    # settings and the paper broker do validate at start)
    unused = ("ffe_entrypoints.api.", "ffe_core.domain.flight.", "ffe_core.domain.costs.")
    assert [m for m in built if m.startswith(unused)] == []


def test_every_model_but_the_settings_defers_its_build() -> None:
    """A model declared on ``BaseModel`` outside ``ffe_core.config`` says ``defer_build=True``
    (the settings are validated at once at every start; deferring them gains nothing)."""
    missing = []
    for package in (ffe_core, ffe_adapters, ffe_entrypoints):
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            if path == Path(ffe_core.config.__file__):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.ClassDef)
                    and any(isinstance(b, ast.Name) and b.id == "BaseModel" for b in node.bases)
                    and not any(_defers(stmt) for stmt in node.body)
                ):
                    missing.append(f"{path.relative_to(root.parent)}:{node.name}")
    assert missing == []


def _defers(stmt: ast.stmt) -> bool:
    """``model_config = ConfigDict(..., defer_build=True, ...)``."""
    return (
        isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "model_config" for t in stmt.targets)
        and isinstance(stmt.value, ast.Call)
        and any(
            k.arg == "defer_build" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in stmt.value.keywords
        )
    )
