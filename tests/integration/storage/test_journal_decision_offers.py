"""The cycle journal stores a cycle's decision on its first offer without reading the INSERT's
row count (no round trip of its own on SQLite); an offer after a failed or ambiguous write is
the checked INSERT, so the decision and its votes are stored exactly once either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_adapters.storage.sql.tables import VoteRow
from ffe_core.domain.agent import AgentCycle, AgentRun, CyclePhase
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.ports.storage import UnitOfWork
from ffe_core.services.agent_journal import CycleJournal
from ffe_core.services.agent_lifecycle import AgentProgress
from tests.conftest import open_sql_storage
from tests.integration.storage.test_sqlite_round_trips import votes_of


class LostCommit(Exception):
    """The commit's answer never came back."""


class Trails:
    """What is written with each stored decision (the DecisionService's part), counted."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.stored: list[str] = []

    def was_stored(self, decision: Decision) -> None:
        self.stored.append(decision.id)

    async def write_stored(self, uow: UnitOfWork, decision: Decision) -> None:
        self.written.append(decision.id)


class Flaky:
    """A unit-of-work factory whose next commit fails before (``lost=False``) or after
    (``lost=True``: the write is stored, the caller is not told) committing."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fail: bool | None = None  # None: commits as usual

    def __call__(self) -> Any:
        flaky, uow = self, self.inner()
        commit = uow.commit

        async def failing() -> None:
            lost, flaky.fail = flaky.fail, None
            if lost is False:
                raise LostCommit("refused before committing")
            await commit()
            if lost:
                raise LostCommit("committed, answer lost")

        uow.commit = failing
        return uow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStorage]:
    async with open_sql_storage(request.param, tmp_path) as s:
        yield s


async def started(storage: SqlStorage) -> tuple[AgentCycle, AgentProgress]:
    run = AgentRun(started_at=datetime.now(UTC))
    async with storage.uow_factory() as uow:
        await uow.agent.add_run(run)
        await uow.commit()
    progress = AgentProgress(run=run)
    return AgentCycle(run_id=run.id, seq=0, instrument="BTC-USD"), progress


def made() -> Decision:
    votes = tuple(ProviderVote(provider=f"p{i}", action=Action.BUY, confidence=0.6) for i in (0, 1))
    return Decision(instrument="BTC-USD", action=Action.BUY, confidence=0.6, votes=votes)


@pytest.mark.parametrize("lost", [False, True], ids=["refused", "answer-lost"])
async def test_a_decision_offered_again_after_a_failed_write_is_stored_once(
    storage: SqlStorage, lost: bool
) -> None:
    cycle, progress = await started(storage)
    flaky, trails = Flaky(storage.uow_factory), Trails()
    journal = CycleJournal(flaky, _Clock(), progress, trails)
    decision = made()
    flaky.fail = lost
    with pytest.raises(LostCommit):
        await journal.record(cycle, decided=decision, phase=CyclePhase.DONE)
    await journal.record(cycle, decided=decision, phase=CyclePhase.FAILED, note="retried")
    async with storage.uow_factory() as uow:
        assert await uow.decisions.get(decision.id) == decision
        (stored,) = await uow.agent.list_cycles()
    assert stored.phase is CyclePhase.FAILED
    assert await votes_of(storage, decision.id) == 2
    # refused: the retry stored the decision (and its trail, the first write's was rolled
    # back); answer lost: it was stored by the first write, the retry added nothing
    assert trails.stored == ([] if lost else [decision.id])
    assert len(trails.written) == (1 if lost else 2)


async def test_a_later_phase_offering_the_stored_decision_adds_nothing(
    storage: SqlStorage,
) -> None:
    cycle, progress = await started(storage)
    trails = Trails()
    journal = CycleJournal(storage.uow_factory, _Clock(), progress, trails)
    decision = made()
    await journal.record(cycle, decided=decision, phase=CyclePhase.ACT)
    await journal.record(cycle, decided=decision, phase=CyclePhase.FAILED)
    assert trails.stored == trails.written == [decision.id]
    assert await votes_of(storage, decision.id) == 2
    async with storage.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(VoteRow)) == 2


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)
