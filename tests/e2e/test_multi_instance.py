"""Three agent processes on one PostgreSQL: one leader at a time, failover, and fencing.

Each process (``lease_agent.py``) stands by for the ``SqlLeaderLease`` and, while leading, runs the
real ``TradingAgent`` loop sending a BUY per cycle to a broker that records into the database.
The test SIGKILLs the leader and measures the takeover; then freezes the next leader past its
lease (a stop-the-world pause right before it acts, lasting until the third process leads) and
checks that, when it wakes, its order is refused by the fence.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ffe_core.domain.orders import client_order_id_for
from tests.conftest import PG_URL, drop_schema, postgres_settings, require_postgres
from tests.e2e.lease_agent import create_e2e_tables
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

TTL = 2.0
POLL = TTL / 8  # how often a follower retries (lease_agent.py)
SCRIPT = Path(__file__).with_name("lease_agent.py")


@pytest.fixture
async def storage() -> AsyncIterator[Any]:
    require_postgres()
    from ffe_adapters.storage.sql.backend import SqlStorage

    settings = postgres_settings()
    opened = SqlStorage(settings)
    await opened.migrate()
    await create_e2e_tables(opened.engine)
    try:
        yield opened
    finally:
        await opened.close()
        assert settings.schema_name
        await drop_schema(settings.schema_name)


def spawn(name: str, schema: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "E2E_"))}
    env.update(
        FFE_STORAGE__URL=PG_URL,
        FFE_STORAGE__SCHEMA_NAME=schema,
        FFE_AGENT__INSTRUMENTS='["BTC-USD"]',
        FFE_AGENT__INTERVAL_SECONDS="0.1",
        E2E_LEASE_TTL=str(TTL),
        E2E_PAUSE_DIR=str(tmp_path),
    )
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), name], cwd=tmp_path, env=env, stdout=log, stderr=log
    )


async def rows(storage: Any, sql: str) -> list[Any]:
    async with storage.engine.connect() as conn:
        return list(await conn.execute(text(sql)))


async def lease_row(storage: Any) -> Any:
    found = await rows(
        storage, "SELECT holder, token, acquired_at FROM leader_leases WHERE name = 'agent'"
    )
    return found[0] if found and found[0].holder else None


def frozen(directory: Path) -> tuple[str, int] | None:
    """(name, lease token) of the process frozen by ``leader.pause``, once it has frozen."""
    for path in directory.glob("*.frozen"):
        return path.name.removesuffix(".frozen"), int(path.read_text())
    return None


async def db_now(storage: Any) -> float:
    """The database's clock, the one lease times are on."""
    found = await rows(storage, "SELECT extract(epoch from clock_timestamp())::float8")
    return float(found[0][0])


async def orders_by(storage: Any, token: int) -> int:
    found = await rows(storage, f"SELECT count(*) FROM e2e_orders WHERE token = {token}")
    return int(found[0][0])


async def diagnostics(storage: Any, procs: dict[str, Any], tmp_path: Path) -> str:
    """The last cycles with their runs' holders, the lease, and each live process's tasks."""
    cycles = await rows(
        storage,
        "SELECT CAST(r.payload AS TEXT) AS r, c.seq, c.phase, c.started_at, "
        "CAST(c.payload AS TEXT) AS p "
        "FROM agent_cycles c JOIN agent_runs r ON r.id = c.run_id "
        "ORDER BY c.started_at DESC LIMIT 6",
    )
    lines = [f"lease: {await lease_row(storage)} at {await db_now(storage)}"]
    runs = await rows(
        storage,
        "SELECT CAST(r.payload AS TEXT) AS r, count(*) AS n, max(c.started_at) AS last "
        "FROM agent_cycles c JOIN agent_runs r ON r.id = c.run_id GROUP BY r.id",
    )
    lines += [f"run {json.loads(r.r).get('holder')}: {r.n} cycles, last {r.last}" for r in runs]
    stuck = await rows(
        storage,
        "SELECT phase, CAST(payload AS TEXT) AS p FROM agent_cycles WHERE phase <> 'done'",
    )
    lines += [f"not done: {c.phase} {c.p[-200:]}" for c in stuck]
    for c in cycles:
        holder = json.loads(c.r).get("holder")
        lines.append(f"{holder} #{c.seq} {c.phase} {c.started_at}: {c.p[-160:]}")
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGUSR1)
    await asyncio.sleep(1)  # let them write their task dumps (diagnostics only)
    for name in procs:
        lines.append(f"=== {name}'s log:")
        lines.append((tmp_path / f"{name}.log").read_text(errors="replace")[-4000:])
    return "\n".join(lines)


async def test_leader_failover_without_duplicate_or_stale_orders(
    storage: Any, tmp_path: Path
) -> None:
    schema = storage.settings.schema_name
    procs = {name: spawn(name, schema, tmp_path) for name in ("a", "b", "c")}
    try:
        first = await wait_until(lambda: lease_row(storage), "a first leader")
        await wait_until(lambda: orders_by(storage, first.token), "the first leader's orders")

        # 1. SIGKILL the leader: another process leads within the lease time (database clock:
        #    the time this test takes to notice the new leader is not part of the takeover).
        killed = first.holder.split(":")[0]
        procs[killed].send_signal(signal.SIGKILL)
        killed_at = await db_now(storage)

        async def successor() -> Any:
            row = await lease_row(storage)
            return row if row is not None and row.token > first.token else None

        second = await wait_until(successor, "a new leader after SIGKILL")
        takeover = second.acquired_at - killed_at
        print(f"takeover after SIGKILL: {takeover:.2f}s (lease {TTL}s, retry every {POLL}s)")
        assert second.holder.split(":")[0] != killed
        assert takeover <= TTL + POLL + 2.0  # scheduling slack on a loaded machine
        await wait_until(lambda: orders_by(storage, second.token), "the new leader's orders")

        # 2. Freeze the leader past its lease right before it acts; it must be fenced off.
        #    Whichever process leads at that moment freezes (on a loaded machine the second may
        #    already have lost the lease to a late renewal) and says which token it holds; it
        #    stays frozen until another process leads, however long that takes here.
        (tmp_path / "leader.pause").touch()
        paused, paused_token = await wait_until(lambda: frozen(tmp_path), "a leader to freeze")
        assert paused != killed

        async def next_leader() -> Any:
            row = await lease_row(storage)
            return row if row is not None and row.token > paused_token else None

        third = await wait_until(next_leader, "a leader while one is frozen")
        assert third.holder.split(":")[0] not in (killed, paused)
        (tmp_path / f"{paused}.resume").touch()

        async def refusal() -> list[Any]:
            return await rows(
                storage,
                "SELECT payload FROM agent_cycles WHERE phase = 'failed' "
                f"AND CAST(payload AS TEXT) LIKE '%stale leader%token {paused_token} %'",
            )

        try:
            refused = await wait_until(refusal, "the stale leader's refused order")
        except AssertionError:  # say what each process did instead, and where it waits
            raise AssertionError(await diagnostics(storage, procs, tmp_path)) from None
        await wait_until(lambda: orders_by(storage, third.token), "the third leader's orders")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

    orders = await rows(
        storage, "SELECT client_order_id, sender, token, submitted_at FROM e2e_orders ORDER BY id"
    )
    leaders = await rows(
        storage, "SELECT sender, token, at FROM e2e_events WHERE kind = 'leader' ORDER BY token"
    )
    coids = [o.client_order_id for o in orders]
    assert len(coids) == len(set(coids)), "an order was sent twice"

    tokens = [leader.token for leader in leaders]
    assert tokens == sorted(set(tokens)) and tokens[0] == first.token
    holder_of = {leader.token: leader.sender for leader in leaders}
    taken_over_at = {leader.token - 1: leader.at for leader in leaders[1:]}
    for order in orders:
        assert order.sender == holder_of[order.token], "an order under someone else's token"
        end = taken_over_at.get(order.token)
        assert end is None or order.submitted_at < end, (
            f"{order.sender} sent an order after losing the lease (token {order.token})"
        )

    stale = refused[0].payload
    assert "stale leader" in stale["note"]
    assert client_order_id_for(stale["decision_id"]) not in coids
    print(
        f"{len(orders)} orders, leaders {[holder_of[t].split(':')[0] for t in tokens]}, "
        f"refused: {refused[0].payload['note'][:90]}"
    )
