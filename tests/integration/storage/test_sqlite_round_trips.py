"""SQLite's worker-thread round trips: one per statement, none to open, fetch, close, or to
commit/roll back when no transaction is open (each used to cost its own wake-up); an INSERT's
executemany, and a single-row INSERT marked deferred, rides with the next trip, and is never
lost, reordered or committed past an error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ffe_adapters.storage.sql import sqlite_driver
from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_adapters.storage.sql.tables import VoteRow
from ffe_core.config import StorageSettings
from ffe_core.domain.agent import AgentCycle, AgentRun
from ffe_core.domain.costs import ProviderCall
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.flight import DecisionRecord, EnsembleVerdict
from ffe_core.domain.performance import ProviderStats
from ffe_core.ports.storage import DecisionQuery


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    st = SqlStorage(StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}"))
    await st.migrate()
    yield st
    await st.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    execute = sqlite_driver.OneTripConnection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.OneTripConnection, "_execute", counted)
    return seen


def decision() -> Decision:
    votes = tuple(
        ProviderVote(provider=f"p{i}", action=Action.BUY, confidence=0.6) for i in range(4)
    )
    return Decision(instrument="BTC-USD", action=Action.BUY, confidence=0.6, votes=votes)


async def test_a_decision_with_four_votes_is_two_round_trips(
    storage: SqlStorage, trips: list[str]
) -> None:
    async with storage.uow_factory() as uow:  # warm: the pool's connection exists
        await uow.decisions.list(DecisionQuery(limit=1))
    trips.clear()
    made = decision()
    async with storage.uow_factory() as uow:
        await uow.decisions.add(made)
        await uow.commit()
    assert len(trips) == 2, trips  # INSERT decision; executemany votes + COMMIT
    trips.clear()
    async with storage.uow_factory() as uow:
        page, _ = await uow.decisions.list(DecisionQuery(limit=5))
    assert [d.id for d in page] == [made.id]
    assert len(trips) == 1, trips  # the SELECT with its rows; no rollback of a read


async def test_a_fresh_decision_rides_with_the_commit_and_a_second_one_is_refused_whole(
    storage: SqlStorage, trips: list[str]
) -> None:
    """``fresh`` (a cycle's decision offered to storage the first time): the decision and its
    votes cost no trip of their own. The same id offered fresh again fails the commit, and
    nothing of the second offer is stored (its votes are not doubled)."""
    async with storage.uow_factory() as uow:  # warm: the pool's connection exists
        await uow.decisions.list(DecisionQuery(limit=1))
    trips.clear()
    made = decision()
    async with storage.uow_factory() as uow:
        await uow.decisions.add(made, fresh=True)
        await uow.commit()
    assert len(trips) == 1, trips  # the COMMIT, carrying the decision and its votes
    with pytest.raises(IntegrityError):
        async with storage.uow_factory() as uow:
            await uow.decisions.add(made, fresh=True)
            await uow.commit()
    assert await votes_of(storage, made.id) == 4
    async with storage.uow_factory() as uow:
        assert await uow.decisions.get(made.id) == made


async def votes_of(storage: SqlStorage, decision_id: str) -> int:
    async with storage.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(VoteRow).where(VoteRow.decision_id == decision_id)
        )
    return int(count or 0)


async def test_queued_votes_are_read_back_inside_their_transaction(storage: SqlStorage) -> None:
    made = decision()
    async with storage.uow_factory() as uow:
        await uow.decisions.add(made)  # votes queued
        seen = await uow._session.scalar(  # the next statement runs the queue first
            select(func.count()).select_from(VoteRow).where(VoteRow.decision_id == made.id)
        )
        await uow.commit()
    assert seen == 4
    assert await votes_of(storage, made.id) == 4


async def test_a_rollback_drops_the_queued_rows(storage: SqlStorage) -> None:
    made = decision()
    async with storage.uow_factory() as uow:
        await uow.decisions.add(made)  # left without commit: rolled back, queue dropped
    assert await votes_of(storage, made.id) == 0
    async with storage.uow_factory() as uow:  # the pooled connection carries nothing over
        await uow.decisions.add(decision())
        await uow.commit()
    assert await votes_of(storage, made.id) == 0
    async with storage.uow_factory() as uow:
        assert await uow.decisions.get(made.id) is None


async def test_a_failing_queued_insert_fails_the_commit_and_nothing_is_stored(
    storage: SqlStorage,
) -> None:
    made = decision()
    call = ProviderCall(provider="p0", decision_id=made.id, at=made.created_at)
    with pytest.raises(IntegrityError):
        async with storage.uow_factory() as uow:
            await uow.decisions.add(made)  # the decision row is in, its votes queued
            await uow.provider_calls.add_all([call, call])  # queued too: one id twice
            await uow.commit()  # runs the queue: the clash is raised, COMMIT never sent
    assert await votes_of(storage, made.id) == 0
    async with storage.uow_factory() as uow:
        assert await uow.decisions.get(made.id) is None
        assert await uow.provider_calls.list() == []


async def test_writes_nobody_reads_back_ride_with_the_commit(
    storage: SqlStorage, trips: list[str]
) -> None:
    """The cycle journal's upsert, a flight record and its contents, provider stats and
    service state are deferred single-row INSERTs: they cost no trip of their own, and are
    stored (the cycle's write is two trips: the decision, whose row count is read, and the
    COMMIT)."""
    made = decision()
    run = AgentRun(started_at=datetime.now(UTC))
    async with storage.uow_factory() as uow:
        await uow.agent.add_run(run)
        await uow.commit()
    cycle = AgentCycle(run_id=run.id, seq=0, instrument="BTC-USD", decision_id=made.id)
    record = DecisionRecord(
        decision_id=made.id,
        instrument=made.instrument,
        decided_at=made.created_at,
        recorded_at=made.created_at,
        snapshot_hash="s" * 64,
        prompt_version="1",
        ensemble=EnsembleVerdict.of(made),
    )
    trips.clear()
    async with storage.uow_factory() as uow:
        await uow.decisions.add(made)  # a trip: its row count says whether it is new
        await uow.flight.add(record, {"s" * 64: "snapshot"})  # rides with the COMMIT
        await uow.agent.update_cycle(cycle)
        await uow.provider_stats.save(ProviderStats(provider="p0", weight=1.5))
        await uow.state.put("k", {"v": 1})
        await uow.commit()
    assert len(trips) == 2, trips
    async with storage.uow_factory() as uow:
        assert await uow.flight.get(made.id) == record
        assert await uow.flight.content("s" * 64) == "snapshot"
        assert [c.id for c in await uow.agent.list_cycles()] == [cycle.id]
        assert (await uow.provider_stats.get("p0")).weight == 1.5  # type: ignore[union-attr]
        assert await uow.state.get("k") == {"v": 1}
