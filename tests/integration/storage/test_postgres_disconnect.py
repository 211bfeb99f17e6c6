"""A PostgreSQL connection killed on the server (``pg_terminate_backend``) while pooled: the next
unit of work gets a live connection and writes once; one killed mid-transaction writes nothing.

The pool no longer pre-pings (three round trips per checkout on asyncpg); the BEGIN sent at
checkout proves the connection instead (``storage.sql.postgres_checkout``). The kill runs on
another thread while this event loop is blocked, so the pooled connection has not read the
server's goodbye when it is next checked out: the dead socket is found by the BEGIN itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ffe_adapters.storage.sql.tables import DecisionRow, VoteRow
from tests.conftest import PG_HOST, PG_PORT, open_sql_storage
from tests.integration.storage.test_decision_writes import four_votes
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Any]:
    async with open_sql_storage("postgres", tmp_path) as opened:
        yield opened


def terminate_blocking(pid: int) -> None:
    """``pg_terminate_backend(pid)`` from another thread and connection, waiting (up to 5 s)
    for the backend to exit; the calling thread (this test's event loop) is blocked meanwhile."""

    async def kill() -> None:
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)
        finally:
            await conn.close()

    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(kill())
        except BaseException as exc:  # handed to the test's thread
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


async def pooled(storage: Any) -> tuple[int, Any]:
    """The backend pid and the asyncpg connection of the (only) pooled connection."""
    async with storage.engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        driver = (await conn.get_raw_connection()).driver_connection
    assert storage.engine.pool.checkedin() == 1
    return int(pid), driver


async def stored(storage: Any, decision_id: str) -> tuple[int, int]:
    """How many decision rows and vote rows ``decision_id`` has."""
    async with storage.engine.connect() as conn:
        decisions = await conn.scalar(
            select(func.count()).select_from(DecisionRow).where(DecisionRow.id == decision_id)
        )
        votes = await conn.scalar(
            select(func.count()).select_from(VoteRow).where(VoteRow.decision_id == decision_id)
        )
    return int(decisions), int(votes)


@pytest.mark.parametrize("goodbye_read", [False, True])
async def test_a_pooled_connection_killed_on_the_server_is_replaced_before_the_next_write(
    storage: Any, goodbye_read: bool
) -> None:
    """``goodbye_read``: the event loop ran after the kill, so the pooled connection knows it
    is closed; otherwise it learns so only from the BEGIN it sends at checkout."""
    assert not storage.engine.pool._pre_ping  # the pre-ping is what this replaces
    killed, driver = await pooled(storage)
    terminate_blocking(killed)
    if goodbye_read:
        await wait_until(driver.is_closed)
    else:
        assert not driver.is_closed()
    d = four_votes()
    async with storage.uow_factory() as uow:  # the very next unit of work: no error
        await uow.decisions.add(d)
        await uow.commit()
    assert await stored(storage, d.id) == (1, 4)
    assert (await pooled(storage))[0] != killed


async def test_every_connection_of_a_restarted_server_is_replaced(storage: Any) -> None:
    """Several pooled connections all killed (as by a server restart): one error-free unit of
    work after another, each on a live connection."""
    conns = [await storage.engine.connect() for _ in range(3)]
    pids = [int(await c.scalar(text("SELECT pg_backend_pid()"))) for c in conns]
    for c in conns:
        await c.close()
    for pid in pids:
        terminate_blocking(pid)
    written = [four_votes() for _ in range(4)]
    for d in written:
        async with storage.uow_factory() as uow:
            await uow.decisions.add(d)
            await uow.commit()
    for d in written:
        assert await stored(storage, d.id) == (1, 4)


async def test_a_connection_killed_mid_transaction_fails_that_write_and_writes_nothing(
    storage: Any,
) -> None:
    d = four_votes()
    with pytest.raises(DBAPIError) as raised:
        async with storage.uow_factory() as uow:
            await uow.decisions.add(d)  # sent inside the transaction, not committed
            pid = await uow._session.scalar(text("SELECT pg_backend_pid()"))
            terminate_blocking(int(pid))
            await uow.commit()
    assert raised.value.connection_invalidated
    assert await stored(storage, d.id) == (0, 0)
    async with storage.uow_factory() as uow:  # the caller's retry writes it exactly once
        await uow.decisions.add(d)
        await uow.commit()
    assert await stored(storage, d.id) == (1, 4)
