"""One contract for every leader lease (in-process, SQLite, PostgreSQL): exclusivity, expiry,
tokens, fencing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ffe_adapters.storage.sql.lease import SqlLeaderLease
from ffe_core.ports.lease import LeaseGrant, LeaseKeeper, LocalLeaderLease, StaleLeader
from tests.conftest import SQL_BACKENDS, open_sql_storage
from tests.waiting import wait_until

TTL = 0.6
RENEWED_TTL = 2.0
"""For the tests that need renewals to keep up: a renewal every third of it leaves 1.3 s of slack
for a loaded machine (with TTL, 0.4 s, a renewal late by a scheduling hiccup lost the lease)."""
MakeLease = Callable[..., Any]


async def sleep_past(expires_at: float, extra: float) -> None:
    """Until ``extra`` seconds after ``expires_at`` on the stores' clock (this host's Unix time)."""
    await asyncio.sleep(max(0.0, expires_at - time.time()) + extra)


@pytest.fixture(params=["local", *SQL_BACKENDS])
async def make(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeLease]:
    """A factory of leases on one shared store: ``make(holder, ttl=TTL)``."""
    if request.param == "local":
        board: dict[str, LeaseGrant] = {}
        yield lambda holder, ttl=TTL: LocalLeaderLease("agent", ttl, holder=holder, board=board)
        return
    async with open_sql_storage(request.param, tmp_path) as storage:
        yield lambda holder, ttl=TTL: SqlLeaderLease(storage.engine, "agent", ttl, holder=holder)


async def test_only_one_holder_at_a_time(make: MakeLease) -> None:
    a, b = make("a"), make("b")
    grant = await a.acquire()
    assert grant is not None and grant.token == 1 and grant.holder == "a"
    assert await b.acquire() is None
    held = await b.current()
    assert held is not None and held.holder == "a" and held.token == 1


async def test_reacquiring_our_live_lease_keeps_the_token(make: MakeLease) -> None:
    a = make("a")
    first, again = await a.acquire(), await a.acquire()
    assert first is not None and again is not None
    assert again.token == first.token and again.expires_at >= first.expires_at


async def test_expired_lease_is_taken_over_with_a_higher_token_and_fences_the_old_holder(
    make: MakeLease,
) -> None:
    a, b = make("a"), make("b")
    old = await a.acquire()
    assert old is not None
    await sleep_past(old.expires_at, 0.1)
    new = await b.acquire()
    assert new is not None and new.holder == "b" and new.token == old.token + 1
    assert not await a.is_current(old.token) and await b.is_current(new.token)
    with pytest.raises(StaleLeader, match="stale leader"):
        await a.renew(old.token)
    with pytest.raises(StaleLeader, match="stale leader"):
        async with a.fenced(old.token):
            pytest.fail("a stale leader entered the fence")
    async with b.fenced(new.token):
        pass


async def test_renewal_keeps_followers_out_past_the_ttl(make: MakeLease) -> None:
    a, b = make("a", ttl=RENEWED_TTL), make("b", ttl=RENEWED_TTL)
    grant = await a.acquire()
    assert grant is not None
    renewals = 0
    while time.time() < grant.expires_at + RENEWED_TTL / 3:  # until well past the first grant
        await asyncio.sleep(RENEWED_TTL / 4)
        renewed = await a.renew(grant.token)
        renewals += 1
        assert renewed.token == grant.token
        assert await b.acquire() is None
    assert renewals >= 4


async def test_release_hands_over_at_once(make: MakeLease) -> None:
    a, b = make("a", ttl=60), make("b", ttl=60)
    grant = await a.acquire()
    assert grant is not None
    await a.release(grant.token)
    assert not await a.is_current(grant.token)
    new = await b.acquire()
    assert new is not None and new.token == grant.token + 1


async def test_concurrent_acquires_elect_exactly_one(make: MakeLease) -> None:
    contenders = [make(f"h{i}") for i in range(6)]
    grants = await asyncio.gather(*(c.acquire() for c in contenders))
    winners = [g for g in grants if g is not None]
    assert len(winners) == 1 and winners[0].token == 1


async def test_keeper_holds_the_lease_and_reports_its_loss(make: MakeLease) -> None:
    a, b = make("a", ttl=RENEWED_TTL), make("b", ttl=RENEWED_TTL)
    lost: list[bool] = []
    keeper = await LeaseKeeper.take(a, on_lost=lambda: lost.append(True))
    await sleep_past(keeper.grant.expires_at, RENEWED_TTL / 2)  # the first grant has lapsed
    assert await b.acquire() is None, "a renewed lease must not be taken over"
    await a.release(keeper.token)  # as if the row was taken from under us
    assert await b.acquire() is not None
    await wait_until(lambda: lost, "the keeper to report the loss at its next renewal")
    assert lost == [True] and keeper.lost
    with pytest.raises(StaleLeader):
        async with keeper.fenced():
            pass
    await keeper.stop()


@pytest.mark.postgres
async def test_postgres_takeover_waits_for_an_order_inside_the_fence(tmp_path: Path) -> None:
    async with open_sql_storage("postgres", tmp_path) as storage:
        a = SqlLeaderLease(storage.engine, "agent", TTL, holder="a")
        b = SqlLeaderLease(storage.engine, "agent", TTL, holder="b")
        grant = await a.acquire()
        assert grant is not None
        async with a.fenced(grant.token):
            await sleep_past(grant.expires_at, 0.1)  # the lease expires while "sending an order"
            assert await b.acquire() is None  # blocked by the fence, gives up after lock_timeout
        new = await b.acquire()
        assert new is not None and new.token == grant.token + 1


async def test_postgres_takeover_is_granted_from_when_the_fence_let_go(tmp_path: Path) -> None:
    """A taker that waited on the old leader's fence is granted from the moment it got the row,
    not from when its statement began (found by the multi-instance run: the new leader's grant
    read 0.6 s before the old leader's last order, which had been sent inside its fence)."""
    async with open_sql_storage("postgres", tmp_path) as storage:
        a = SqlLeaderLease(storage.engine, "agent", TTL, holder="a")
        b = SqlLeaderLease(storage.engine, "agent", 3.0, holder="b")  # waits up to 1 s
        grant = await a.acquire()
        assert grant is not None
        async with a.fenced(grant.token):
            await sleep_past(grant.expires_at, 0.05)
            taking = asyncio.create_task(b.acquire())
            await asyncio.sleep(0.4)  # b is queued behind the fence's row lock meanwhile
            assert not taking.done()
            async with storage.engine.connect() as conn:
                let_go = (await conn.exec_driver_sql("SELECT extract(epoch from now())")).scalar()
        new = await taking
        assert new is not None and new.token == grant.token + 1
        assert new.expires_at - b.ttl_seconds >= float(let_go)
