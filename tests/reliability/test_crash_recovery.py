"""SIGKILL the agent at seeded random points; after every restart nothing is lost or doubled.

Each run is the ``ffe agent run`` command in its own process (forked from a warm server, see
``forked_cli``), on the paper broker, with SQLite or a fresh PostgreSQL schema. Between restarts
the database is read directly and checked (``invariants.check_invariants``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_core.config import Settings, StorageSettings
from tests.conftest import drop_schema, postgres_settings, require_postgres, sqlite_settings
from tests.reliability.forked_cli import fork_context, start_cli
from tests.reliability.invariants import LedgerSnapshot, check_invariants

SEED = int(os.environ.get("FFE_RELIABILITY_SEED", "20261125"))
KILLS_PER_BACKEND = 50
KILL_WINDOW = (0.05, 1.5)  # seconds after start; covers start-up, recovery and a few cycles
FAST = {
    "FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR": "0.2",  # a new bar every 0.2 s: signals move
    "FFE_AGENT__INTERVAL_SECONDS": "0.05",
    "FFE_AGENT__INSTRUMENTS": '["BTC-USD", "ETH-USD"]',
    "FFE_LOGGING__LEVEL": "WARNING",
}

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def storage_env(storage: StorageSettings) -> dict[str, str]:
    env = {**FAST, "FFE_STORAGE__URL": storage.url}
    if storage.schema_name:
        env["FFE_STORAGE__SCHEMA_NAME"] = storage.schema_name
    return env


@pytest.fixture(scope="module")
def forks() -> ForkServerContext:
    return fork_context()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def storage_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StorageSettings]:
    if request.param == "sqlite":
        yield sqlite_settings(tmp_path)
        return
    require_postgres()
    settings = postgres_settings()
    try:
        yield settings
    finally:
        assert settings.schema_name
        await drop_schema(settings.schema_name)


async def run_and_kill(
    forks: ForkServerContext, env: dict[str, str], workdir: Path, delay: float
) -> bool:
    """Start the agent, SIGKILL it after ``delay`` s; False if it had already exited."""
    proc = start_cli(forks, ["agent", "run", "--json"], env, workdir)
    await asyncio.to_thread(proc.join, delay)
    if not proc.is_alive():
        return False
    proc.kill()
    await asyncio.to_thread(proc.join, 10)
    assert proc.exitcode == -signal.SIGKILL
    return True


async def test_sigkill_at_seeded_points_loses_and_doubles_nothing(
    forks: ForkServerContext, storage_settings: StorageSettings, tmp_path: Path
) -> None:
    rng = random.Random(f"{SEED}:{storage_settings.url.split(':')[0]}")
    settings = Settings(storage=storage_settings)
    env = storage_env(storage_settings)
    workdir = tmp_path / "agent"
    workdir.mkdir()
    storage = SqlStorage(storage_settings)
    seen_orders: set[str] = set()
    before = LedgerSnapshot(0, 0, 0, 0, 0, settings.trading.initial_cash)
    try:
        for kill in range(KILLS_PER_BACKEND):
            delay = rng.uniform(*KILL_WINDOW)
            killed = await run_and_kill(forks, env, workdir, delay)
            err = (workdir / "err.txt").read_text()
            assert killed, f"kill point {kill}: the agent exited on its own:\n{err[-2000:]}"
            if not seen_orders and not await _migrated(storage):
                continue  # killed before the first migration finished: nothing to check yet
            snap = await check_invariants(storage.uow_factory, settings)
            async with storage.uow_factory() as uow:
                orders = {o.client_order_id for o in await uow.orders.list()}
            assert seen_orders <= orders, f"kill point {kill}: an order disappeared"
            assert snap.fills >= before.fills, f"kill point {kill}: a fill disappeared"
            seen_orders, before = orders, snap

        proc = start_cli(forks, ["agent", "run", "--cycles", "4", "--interval", "0", "--json"],
                         env, workdir)
        await asyncio.to_thread(proc.join, 120)
        assert proc.exitcode == 0, (workdir / "err.txt").read_text()[-2000:]
        summary = json.loads((workdir / "out.txt").read_text())
        final = await check_invariants(storage.uow_factory, settings)
    finally:
        await storage.close()

    assert summary["cycles"] == 4
    assert final.unfinished_cycles == 0, "a crashed cycle was left unfinished after recovery"
    assert final.recovered_cycles > 0, "no kill landed inside a cycle: the test proved little"
    assert final.orders >= 3 and final.fills >= 3, f"too little trading to be meaningful: {final}"
    print(f"{storage_settings.url.split(':')[0]}: {KILLS_PER_BACKEND} kills, {final}")


async def _migrated(storage: SqlStorage) -> bool:
    try:
        async with storage.uow_factory() as uow:
            await uow.orders.list()
    except Exception:
        return False
    return True
