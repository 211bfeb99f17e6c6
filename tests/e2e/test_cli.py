"""The ``ffe`` command as a user runs it: real processes, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.waiting import wait_until_sync

FFE = [sys.executable, "-m", "ffe_entrypoints.cli.main"]


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    full_env.update(env or {})
    return subprocess.run(
        [*FFE, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_version(tmp_path: Path) -> None:
    proc = run(["version"], tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "0.1.0"


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    env = {"FINANCE_FEEDBACK_API_KEY": "top-secret-api-key", "FFE_TELEGRAM__BOT_TOKEN": "1:tok"}
    proc = run(["config", "show", "--json"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert "top-secret-api-key" not in proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["api"]["api_key"] == "**********"


def test_bad_config_value_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump({"api": {"port": -5}}))
    assert_one_line_error(run(["config", "show"], tmp_path), 2, "api.port")
    env = {"FFE_RISK__MAX_DRAWDOWN": "lots"}
    assert_one_line_error(run(["config", "show"], tmp_path / "config", env), 2, "risk.max_drawdown")


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    proc = run(["frobnicate"], tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_plugins_list_json_includes_builtins_and_the_example_plugin(tmp_path: Path) -> None:
    proc = run(["plugins", "list", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    names = {(a["kind"], a["name"]) for a in data["adapters"]}
    assert ("storage", "sql") in names and ("brokers", "paper") in names
    assert ("decision_providers", "contrarian") in names
    assert data["errors"] == []


def test_db_upgrade_creates_sqlite_in_wal_mode(tmp_path: Path) -> None:
    proc = run(["db", "upgrade"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    from alembic.script import ScriptDirectory

    from ffe_adapters.storage.sql.backend import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert proc.stdout.strip() == f"database at revision {head}"
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "ffe.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"decisions", "orders", "fills", "approvals", "agent_cycles"} <= tables


def test_db_upgrade_on_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    env = {"FFE_STORAGE__URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    proc = run(["db", "upgrade"], tmp_path, env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_serve_answers_health_within_60_seconds(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    proc = subprocess.Popen(
        [*FFE, "serve", "--port", str(port), "--no-agent"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def health() -> httpx.Response | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                return None

        r = wait_until_sync(health, "a /health answer", within=60, interval=0.3)
        assert r.status_code == 200 and r.json()["status"] in {"ok", "degraded"}
        assert httpx.get(f"http://127.0.0.1:{port}/live").json() == {"status": "alive"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_refuses_public_bind_without_api_key(tmp_path: Path) -> None:
    proc = run(["serve", "--host", "0.0.0.0", "--port", "1"], tmp_path)
    assert_one_line_error(proc, 2, "api.host")
