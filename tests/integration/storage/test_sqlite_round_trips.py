"""SQLite's worker-thread round trips: one per statement, none to open, fetch, close, or to
commit/roll back when no transaction is open (each used to cost its own wake-up)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ffe_adapters.storage.sql import sqlite_driver
from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_core.config import StorageSettings
from ffe_core.domain.decisions import Action, Decision, ProviderVote
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


async def test_a_decision_with_four_votes_is_three_round_trips(
    storage: SqlStorage, trips: list[str]
) -> None:
    async with storage.uow_factory() as uow:  # warm: the pool's connection exists
        await uow.decisions.list(DecisionQuery(limit=1))
    trips.clear()
    made = decision()
    async with storage.uow_factory() as uow:
        await uow.decisions.add(made)
        await uow.commit()
    assert len(trips) == 3, trips  # INSERT decision, executemany votes, COMMIT
    trips.clear()
    async with storage.uow_factory() as uow:
        page, _ = await uow.decisions.list(DecisionQuery(limit=5))
    assert [d.id for d in page] == [made.id]
    assert len(trips) == 1, trips  # the SELECT with its rows; no rollback of a read
