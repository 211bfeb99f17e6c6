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
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_adapters.storage.sql.lease import SqlLeaderLease
from ffe_core.config import Settings, StorageSettings
from tests.conftest import (
    PG_HOST,
    PG_PORT,
    drop_schema,
    port_open,
    postgres_settings,
    sqlite_settings,
)
from tests.reliability.forked_cli import fork_context, start_cli
from tests.reliability.invariants import LedgerSnapshot, check_invariants

SEED = int(os.environ.get("FFE_RELIABILITY_SEED", "20261125"))
KILLS_PER_BACKEND = 50
MAX_KILLS_PER_BACKEND = 120
"""Kill points go on (the same seeded sequence) past KILLS_PER_BACKEND until they have landed
among real trading (:func:`traded`): on a loaded machine a run gets fewer cycles before its kill,
so 50 kill points alone may see too little of it to test anything."""
VENUE_LATENCY = 0.1
"""Seconds the paper venue takes per order in the killed runs (see ``give_the_venue_latency``).
Only a cycle that is acting can be recovered (one that only decides is stored in one transaction
with its end); with the paper venue answering in microseconds, a kill almost never landed while
an order was out, and a quiet CI run once used all of its kill points without landing in one."""
KILL_WINDOW = (0.05, 1.2)  # seconds after start; covers start-up, recovery and a few cycles
MAX_STRETCH = 16.0
"""A kill that lands before the run began a cycle stretches the window of the next ones by 1.5
(up to this), one that lands after shrinks it back (never below the window as written): on a
loaded machine start-up alone can outlast the window, and kill points that never reach a cycle
test nothing (one CI run at load average 15 made 120 of them on PostgreSQL). About half the kills
then land in start-up, whatever the machine's pace."""
LEASE_TTL = 1.0  # PostgreSQL leader lease: a restart waits this long for a killed leader's lease
LEASE_STOPS = ("leader lease 'agent' is held by", "lost leader lease")
"""Clean exits that are not failures: refused while a killed leader's lease lasts, or stopped
because a renewal came too late on a loaded machine (the lease is deliberately short here)."""
FAST = {
    "FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR": "0.2",  # a new bar every 0.2 s: signals move
    "FFE_AGENT__INTERVAL_SECONDS": "0.05",
    "FFE_AGENT__INSTRUMENTS": '["BTC-USD", "ETH-USD"]',
    "FFE_AGENT__LEASE_TTL_SECONDS": str(LEASE_TTL),
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


async def run_and_kill(
    forks: ForkServerContext, env: dict[str, str], workdir: Path, delay: float
) -> int | None:
    """Start the agent, SIGKILL it after ``delay`` s; None when the kill landed, else the exit
    code of an agent that had already exited on its own (the caller checks why)."""
    proc = start_cli(forks, ["agent", "run", "--json"], env, workdir, VENUE_LATENCY)
    await asyncio.to_thread(proc.join, delay)
    if not proc.is_alive():
        return proc.exitcode
    proc.kill()
    await asyncio.to_thread(proc.join, 10)
    assert proc.exitcode is not None, "the agent outlived SIGKILL by 10 s"
    # It may have exited on its own between is_alive() and kill(): the caller checks why.
    return None if proc.exitcode == -signal.SIGKILL else proc.exitcode


async def wait_for_lease_expiry(storage: SqlStorage) -> None:
    """PostgreSQL: a killed leader's lease blocks a restart until it lapses (by design)."""
    if storage.dialect != "postgresql":
        return
    grant = await SqlLeaderLease(storage.engine, "agent", LEASE_TTL).current()
    if grant is not None and grant.holder:
        await asyncio.sleep(max(0.0, grant.expires_at - time.time()) + 0.05)


def traded(snap: LedgerSnapshot) -> bool:
    """Enough trading, and kills inside cycles, for the invariants to have been tested."""
    return snap.orders >= 3 and snap.fills >= 3 and snap.recovered_cycles > 0


async def crash_suite(
    forks: ForkServerContext, storage_settings: StorageSettings, workdir: Path
) -> LedgerSnapshot:
    """KILLS_PER_BACKEND (or more) seeded kill points, the invariants after each, then a clean
    run."""
    backend = storage_settings.url.split(":")[0]
    rng = random.Random(f"{SEED}:{backend}")
    settings = Settings(storage=storage_settings)
    env = storage_env(storage_settings)
    await asyncio.to_thread(workdir.mkdir)
    storage = SqlStorage(storage_settings)
    seen_orders: set[str] = set()
    before = LedgerSnapshot(0, 0, 0, 0, 0, settings.trading.initial_cash)
    stretch = 1.0
    try:
        kill = 0
        while kill < KILLS_PER_BACKEND or (not traded(before) and kill < MAX_KILLS_PER_BACKEND):
            delay = rng.uniform(*KILL_WINDOW) * stretch
            code = await run_and_kill(forks, env, workdir, delay)
            if code is not None:
                err = (workdir / "err.txt").read_text()
                out = (workdir / "out.txt").read_text()
                assert any(reason in err for reason in LEASE_STOPS), (
                    f"{backend} kill point {kill}: the agent exited on its own (exit code "
                    f"{code}):\n{err[-2000:]}\nstdout:\n{out[-1000:]}"
                )
                await wait_for_lease_expiry(storage)
                continue  # a clean refusal or stop on the lease: try again
            kill += 1
            if not seen_orders and not await _migrated(storage):
                stretch = min(stretch * 1.5, MAX_STRETCH)
                continue  # killed before the first migration finished: nothing to check yet
            snap = await check_invariants(storage.uow_factory, settings)
            if snap.cycles == before.cycles:  # killed in start-up: later kills come later
                stretch = min(stretch * 1.5, MAX_STRETCH)
            else:  # back toward the window as written (a quiet machine stays at 1)
                stretch = max(stretch / 1.5, 1.0)
            async with storage.uow_factory() as uow:
                orders = {o.client_order_id for o in await uow.orders.list()}
            assert seen_orders <= orders, f"{backend} kill point {kill}: an order disappeared"
            assert snap.fills >= before.fills, f"{backend} kill point {kill}: a fill disappeared"
            seen_orders, before = orders, snap
            await wait_for_lease_expiry(storage)

        # The clean run must finish: a lease long enough that a renewal late on a loaded machine
        # cannot stop it (the short lease is for the restarts above, not for this check).
        argv = ["agent", "run", "--cycles", "4", "--interval", "0", "--json"]
        proc = start_cli(forks, argv, {**env, "FFE_AGENT__LEASE_TTL_SECONDS": "60"}, workdir)
        await asyncio.to_thread(proc.join, 120)
        assert proc.exitcode == 0, (workdir / "err.txt").read_text()[-2000:]
        summary = json.loads((workdir / "out.txt").read_text())
        final = await check_invariants(storage.uow_factory, settings, synced=True)
    finally:
        await storage.close()

    assert summary["cycles"] == 4
    assert final.unfinished_cycles == 0, f"{backend}: a crashed cycle was left unfinished"
    assert final.recovered_cycles > 0, f"{backend}: no kill landed inside a cycle"
    assert final.orders >= 3 and final.fills >= 3, f"{backend}: too little trading: {final}"
    print(f"{backend}: {kill} kill points, {final}")
    return final


async def test_sigkill_at_seeded_points_loses_and_doubles_nothing(
    forks: ForkServerContext, tmp_path: Path
) -> None:
    """Both backends at once (separate processes and storage), so the suite stays short."""
    suites = [crash_suite(forks, sqlite_settings(tmp_path), tmp_path / "sqlite")]
    schema = None
    if port_open(PG_HOST, PG_PORT):
        pg = postgres_settings()
        schema = pg.schema_name
        suites.append(crash_suite(forks, pg, tmp_path / "postgres"))
    try:
        await asyncio.gather(*suites)
    finally:
        if schema:
            await drop_schema(schema)
    if schema is None:
        pytest.skip("PostgreSQL is not reachable: only SQLite was crash-tested")


async def _migrated(storage: SqlStorage) -> bool:
    try:
        async with storage.uow_factory() as uow:
            await uow.orders.list()
    except Exception:
        return False
    return True
