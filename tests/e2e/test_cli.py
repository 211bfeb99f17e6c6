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

from ffe_adapters.hookspecs import KINDS
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
    env = {
        "FINANCE_FEEDBACK_API_KEY": "top-secret-api-key",
        "FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": "1:tok",
    }
    proc = run(["config", "show", "--json"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert "top-secret-api-key" not in proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["api"]["api_key"] == "**********"


def test_bad_config_value_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump({"api": {"port": -5}}))
    assert_one_line_error(run(["config", "show"], tmp_path), 2, "api.port")
    env = {"FFE_RISK__MAX_DRAWDOWN": "lots"}
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"  # no project at or above it
    elsewhere.mkdir()
    assert_one_line_error(run(["config", "show"], elsewhere, env), 2, "risk.max_drawdown")


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    proc = run(["frobnicate"], tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_plugins_list_json_includes_builtins_and_the_example_plugin(tmp_path: Path) -> None:
    proc = run(["plugins", "list", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    names = {(a["kind"], a["name"]) for a in data["adapters"]}
    assert ("storage", "sqlite") in names and ("storage", "postgresql") in names
    assert ("brokers", "paper") in names
    assert ("decision_providers", "contrarian") in names
    assert ("notifiers", "journal") in names and ("caches", "ttl_dict") in names
    # every kind a plugin can supply is listed, each with at least one built-in
    assert set(data["kinds"]) == set(KINDS.values())
    assert all(data["kinds"][kind] for kind in KINDS.values())
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
    assert_one_line_error(run(["db", "upgrade"], tmp_path, env), 2, "storage.url")


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


def seed_approvals(tmp_path: Path, env: dict[str, str]) -> None:
    """A pending approval ``a-pending`` and one a newer decision superseded, in SQLite."""
    import asyncio
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from ffe_core.domain.approvals import Approval
    from ffe_entrypoints.container import build_container
    from ffe_entrypoints.lifecycle import shutdown, startup
    from ffe_entrypoints.settings import load_settings

    now = datetime.now(UTC)

    def approval(approval_id: str) -> Approval:
        return Approval(
            id=approval_id,
            decision_id=f"d-{approval_id}",
            instrument="BTC-USD",
            summary="BUY BTC-USD, size 0.0125",
            created_at=now,
            expires_at=now + timedelta(hours=1),
            action="BUY",
            size=Decimal("0.0125"),
            reference_price=Decimal("50000"),
            notional=Decimal("625"),
        )

    async def seed() -> None:
        container = build_container(load_settings(tmp_path, environ=env))
        await startup(container)
        try:
            async with container.uow_factory()() as uow:
                await uow.approvals.add(approval("a-pending"))
                await uow.approvals.add(approval("a-half"))
                await uow.approvals.add(approval("a-old").supersede("d-newer"))
                await uow.commit()
        finally:
            await shutdown(container)

    asyncio.run(seed())


def test_approvals_list_approve_and_a_conflict_is_one_line_exit_2(tmp_path: Path) -> None:
    env = {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}", "COLUMNS": "250"}
    seed_approvals(tmp_path, env)

    listed = run(["approvals", "list"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    assert "notional" in listed.stdout and "reason" in listed.stdout
    [old] = [line for line in listed.stdout.splitlines() if "a-old" in line]
    assert "superseded" in old and "625.00" in old and "superseded by decision d-newer" in old

    approved = run(["approvals", "approve", "a-pending", "--by", "ops"], tmp_path, env)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == "approval a-pending: approved (by ops)"

    again = run(["approvals", "reject", "a-pending", "--by", "bob"], tmp_path, env)
    assert_one_line_error(again, 2, "error: approval a-pending is already approved by ops")
    superseded = run(["approvals", "approve", "a-old"], tmp_path, env)
    assert_one_line_error(superseded, 2, "is already superseded (superseded by decision d-newer)")
    junk = run(["approvals", "approve", "a-half", "--size", "abc"], tmp_path, env)
    assert_one_line_error(junk, 2, "--size must be a number")
    above = run(["approvals", "approve", "a-half", "--size", "1"], tmp_path, env)
    assert_one_line_error(above, 2, "at most the sized 0.0125")
    half = run(["approvals", "approve", "a-half", "--size", "0.00625"], tmp_path, env)
    assert half.returncode == 0, half.stderr
    assert half.stdout.strip() == "approval a-half: approved (by cli)"
    bad = run(["approvals", "list", "--status", "nope"], tmp_path, env)
    assert_one_line_error(bad, 2, "superseded", "failed")
