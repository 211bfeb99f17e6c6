"""`POST /api/bot/start` under concurrency, and the kill switch reset from the CLI reaching a
running server, on SQLite and PostgreSQL.

The app runs in the test's own loop (its lifespan entered here, requests through
``httpx.ASGITransport``) so that the 20 starts really are concurrent: ``AsyncTestClient`` hands
each request to its portal thread one at a time. The database is read through a separate engine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_core.config import Settings, StorageSettings
from ffe_entrypoints.container import Container
from tests.api.conftest import api_settings, build_app, in_loop

LEASE_TTL = 1.5  # seconds; a keeper renews every third of it


def settings_for(tmp_path: Path, storage_env: dict[str, str]) -> Settings:
    return api_settings(
        tmp_path,
        {
            **storage_env,
            "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
            "FFE_AGENT__INTERVAL_SECONDS": "0.05",
            "FFE_AGENT__LEASE_TTL_SECONDS": str(LEASE_TTL),
        },
    )


@asynccontextmanager
async def live(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    app, container = build_app(settings)
    async with in_loop(app) as client:
        yield client, container


@asynccontextmanager
async def observer(storage_env: dict[str, str]) -> AsyncIterator[SqlStorage]:
    storage = SqlStorage(
        StorageSettings(
            url=storage_env["FFE_STORAGE__URL"],
            schema_name=storage_env.get("FFE_STORAGE__SCHEMA_NAME"),
        )
    )
    try:
        yield storage
    finally:
        await storage.close()


async def run_states(storage: SqlStorage) -> dict[str, str]:
    async with storage.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, state FROM agent_runs"))
        return {r[0]: r[1] for r in rows}


async def status(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/bot/status")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def keeps_running(client: httpx.AsyncClient, cycles: int, seconds: float) -> dict[str, Any]:
    """Poll (bounded) until ``cycles`` more cycles ran and ``seconds`` passed; the agent must be
    running at every look."""
    first = await status(client)
    started, deadline = time.monotonic(), time.monotonic() + 30
    while True:
        now = await status(client)
        assert now["state"] == "running", f"the agent stopped itself: {now}"
        if now["cycles"] >= first["cycles"] + cycles and time.monotonic() - started >= seconds:
            return now
        assert time.monotonic() < deadline, f"cycles did not advance: {now}"
        await asyncio.sleep(0.05)


def lease_keepers() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("lease-") and not t.done()]


async def test_twenty_concurrent_starts_make_one_run_and_the_next_start_keeps_running(
    tmp_path: Path, storage_env: dict[str, str]
) -> None:
    async with (
        live(settings_for(tmp_path, storage_env)) as (client, _),
        observer(storage_env) as db,
    ):
        responses = await asyncio.gather(*(client.post("/api/bot/start") for _ in range(20)))

        codes = sorted({r.status_code for r in responses})
        assert set(codes) <= {200, 409}, [r.text for r in responses]
        run_ids = {r.json()["run_id"] for r in responses if r.status_code == 200}
        assert len(run_ids) == 1, run_ids
        (run_id,) = run_ids
        assert all(
            "already running" in r.json()["detail"] for r in responses if r.status_code == 409
        )
        assert await run_states(db) == {run_id: "running"}
        await keeps_running(client, cycles=3, seconds=2 * LEASE_TTL)  # told "running": it runs

        stopped = await client.post("/api/bot/stop")
        assert stopped.json()["state"] == "stopped"
        assert await run_states(db) == {run_id: "stopped"}
        assert lease_keepers() == []

        again = await client.post("/api/bot/start")
        assert again.status_code == 200, again.text
        second = again.json()["run_id"]
        assert second != run_id
        # past several renewals of any old lease token: nothing stops the new run
        await keeps_running(client, cycles=5, seconds=2 * LEASE_TTL)
        assert len(lease_keepers()) == (0 if "sqlite" in storage_env["FFE_STORAGE__URL"] else 1)

        assert (await client.post("/api/bot/stop")).json()["state"] == "stopped"
        assert await run_states(db) == {run_id: "stopped", second: "stopped"}
        assert lease_keepers() == []


def cli_reset(cwd: Path, storage_env: dict[str, str], by: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    env.update(storage_env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ffe_entrypoints.cli.main",
            "agent",
            "reset-kill-switch",
            "--by",
            by,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_kill_switch_reset_from_the_cli_reaches_the_running_server(
    tmp_path: Path, storage_env: dict[str, str]
) -> None:
    async with live(settings_for(tmp_path, storage_env)) as (client, container):
        # the account "was" worth far more: the first look at it trips the drawdown limit
        container.risk_manager().update_equity(Decimal("1000000"), container.clock().now())
        assert (await client.post("/api/bot/start")).status_code == 200
        deadline = time.monotonic() + 30
        while (tripped := await status(client))["state"] != "stopped":
            assert time.monotonic() < deadline, tripped
            await asyncio.sleep(0.05)
        ks = tripped["kill_switch"]
        assert ks["tripped"] and "drawdown" in ks["reason"] and ks["tripped_by"]
        refused = await client.post("/api/bot/start")
        assert refused.status_code == 409 and "reset it first" in refused.json()["detail"]

        cwd = tmp_path / "cli"
        cwd.mkdir()
        done = await asyncio.to_thread(cli_reset, cwd, storage_env, "ops")
        assert done.returncode == 0, done.stderr
        assert "kill switch reset by ops (it had tripped at" in done.stdout

        seen = (await status(client))["kill_switch"]  # the server reads the stored switch
        assert not seen["tripped"]
        assert seen["reset_by"] == "ops"
        started = await client.post("/api/bot/start")
        assert started.status_code == 200, started.text
        await keeps_running(client, cycles=3, seconds=0)
        assert (await client.post("/api/bot/stop")).json()["state"] == "stopped"

        async with container.uow_factory()() as uow:
            saved = await uow.state.get("risk_manager")
        assert saved is not None and not saved["kill_switch"]["tripped"]
        [record] = saved["resets"]
        assert record["by"] == "ops" and record["tripped_reason"] == ks["reason"]
        assert record["tripped_at"] is not None
