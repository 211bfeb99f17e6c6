"""Decision writes: a decision and its votes in a bounded number of statements, duplicates
refused by the primary key, and the stored JSON page equal to the validated one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from ffe_adapters.storage.memory import InMemoryStore
from ffe_adapters.storage.sql.tables import VoteRow
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.errors import ConflictError
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.ports.storage import DecisionQuery
from tests.conftest import SQL_BACKENDS, open_sql_storage
from tests.contract.test_storage_contract import decision


@pytest.fixture(params=SQL_BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with open_sql_storage(request.param, tmp_path) as opened:
        yield opened


@contextmanager
def statements(storage: Any) -> Iterator[list[str]]:
    """The SQL statements the engine sends while inside the block (BEGIN/COMMIT are not
    statements of the driver's cursor and are not counted)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = storage.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def four_votes() -> Decision:
    votes = tuple(
        ProviderVote(provider=f"p{i}", action=Action.BUY, confidence=0.5 + i / 10, latency_ms=i)
        for i in range(4)
    )
    return Decision(instrument="ETH-USD", action=Action.BUY, confidence=0.7, votes=votes)


async def test_a_decision_with_four_votes_is_at_most_three_statements(storage: Any) -> None:
    d = four_votes()
    async with storage.uow_factory() as uow:
        with statements(storage) as sent:
            await uow.decisions.add(d)
            await uow.commit()
    assert 1 <= len(sent) <= 3, sent
    assert not any(s.lstrip().upper().startswith("SELECT") for s in sent), sent
    async with storage.uow_factory() as uow:
        assert await uow.decisions.get(d.id) == d
    async with storage.engine.connect() as conn:
        votes = await conn.scalar(
            select(func.count()).select_from(VoteRow).where(VoteRow.decision_id == d.id)
        )
    assert votes == 4


async def test_a_duplicate_decision_is_refused_and_the_transaction_goes_on(storage: Any) -> None:
    first = decision(1)
    async with storage.uow_factory() as uow:
        await uow.decisions.add(first)
        await uow.commit()
    other = decision(2)
    async with storage.uow_factory() as uow:
        with pytest.raises(ConflictError):
            await uow.decisions.add(first.model_copy(update={"reasoning": "a second writer"}))
        await uow.decisions.add(other)  # the transaction is still usable (PostgreSQL too)
        await uow.commit()
    async with storage.uow_factory() as uow:
        assert await uow.decisions.get(first.id) == first
        assert await uow.decisions.get(other.id) == other
    async with storage.engine.connect() as conn:
        votes = await conn.scalar(
            select(func.count()).select_from(VoteRow).where(VoteRow.decision_id == first.id)
        )
    assert votes == len(first.votes)  # the refused copy added no votes


@pytest.mark.parametrize("backend", [*SQL_BACKENDS, "memory"])
async def test_stored_pages_are_the_validated_pages_as_json(backend: str, tmp_path: Path) -> None:
    made = [decision(i, action=Action.BUY if i % 2 else Action.SELL) for i in range(7)]

    async def check(uow_factory: Any) -> None:
        async with uow_factory() as uow:
            for d in made:
                await uow.decisions.add(d)
            await uow.commit()
        for query in (DecisionQuery(limit=3), DecisionQuery(action=Action.BUY, limit=2)):
            cursor: str | None = None
            while True:
                page = query.model_copy(update={"cursor": cursor})
                async with uow_factory() as uow:
                    validated, next_validated = await uow.decisions.list(page)
                    stored, next_stored = await uow.decisions.list_stored(page)
                assert stored == [d.model_dump(mode="json") for d in validated]
                assert next_stored == next_validated
                if next_stored is None:
                    break
                cursor = next_stored

    if backend == "memory":
        await check(InMemoryStore())
        return
    async with open_sql_storage(backend, tmp_path) as opened:
        await check(opened.uow_factory)


async def test_an_account_loads_in_one_statement_and_sees_its_unflushed_save(storage: Any) -> None:
    held = {
        s: Position(instrument=s, quantity=Decimal(q), average_price=Decimal("10.5"))
        for s, q in (("BTC-USD", "0.25"), ("ETH-USD", "-3"))
    }
    book = Portfolio(cash=Decimal("1000.125"), positions=held)
    async with storage.uow_factory() as uow:
        await uow.accounts.save("acct", book)
        assert await uow.accounts.load("acct") == book  # the save is flushed before the read
        await uow.commit()
    for expected in (book, book.model_copy(update={"positions": {}})):
        async with storage.uow_factory() as uow:
            await uow.accounts.save("acct", expected)
            await uow.commit()
        async with storage.uow_factory() as uow:
            with statements(storage) as sent:
                loaded = await uow.accounts.load("acct")
            assert await uow.accounts.load("nobody") is None
        assert loaded == expected
        assert len(sent) == 1, sent
