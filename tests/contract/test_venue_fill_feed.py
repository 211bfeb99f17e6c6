"""The fill feeds: the simulated venue's (``venue_fills.since``, what ``PaperBroker.fills_since``
reads) and the ledger's (``fills.since``, what the account view replays): each read returns at
least every fill recorded since the mark it was handed, whatever order fills are recorded in,
including one committed late with an earlier ``seq`` (another writer's transaction, on
PostgreSQL), fills with equal timestamps, and a reader that starts again without a mark (a
restart); a read that returns every fill says so by returning as many as its mark counts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_adapters.storage.sql.tables import FillRow, VenueFillRow
from ffe_core.domain.orders import Fill, FillMark, Side
from tests.contract.storages import STORAGES, Stored, storage

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # every fill at the same time: the order is not by time


def fill(n: int) -> Fill:
    return Fill(
        client_order_id=f"c{n % 3}",
        instrument="BTC-USD",
        side=Side.BUY,
        quantity=Decimal(1),
        price=Decimal(100),
        ts=T0,
    )


BOOKS = {"venue_fills": VenueFillRow, "fills": FillRow}


async def add(s: Stored, f: Fill, *, late: bool, book: str = "venue_fills") -> None:
    """Record ``f``; ``late``: with the lowest ``seq`` there is, as a transaction that took
    its ``seq`` before others committed would (SQL only; in memory it is recorded as usual)."""
    if late and isinstance(s.backend, SqlStorage):
        row = BOOKS[book]
        async with s.backend.engine.begin() as conn:
            low = (await conn.scalar(select(func.min(row.seq)))) or 1
            await conn.execute(
                insert(row),
                {
                    "fill_id": f.fill_id,
                    "client_order_id": f.client_order_id,
                    "instrument": f.instrument,
                    "ts": f.ts,
                    "seq": low,
                    "payload": f.model_dump(mode="json"),
                },
            )
        return
    async with s.uow_factory() as uow:
        assert await getattr(uow, book).add(f)
        await uow.commit()


async def since(
    s: Stored, mark: FillMark | None, book: str = "venue_fills"
) -> tuple[list[Fill], FillMark]:
    async with s.uow_factory() as uow:
        found: tuple[list[Fill], FillMark] = await getattr(uow, book).since(mark)
        return found


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.booleans()),
        st.tuples(st.just("read"), st.just(False)),
        st.tuples(st.just("restart"), st.just(False)),
    ),
    max_size=25,
)


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("kind", STORAGES)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=OPS)
def test_a_read_reports_every_fill_recorded_since_its_mark(
    kind: str, book: str, tmp_path: Path, program: Any
) -> None:
    async def run(stored: Stored) -> None:
        existing, mark = await since(stored, None, book)
        assert existing == [], "each example starts from an empty book"
        unreported: set[str] = set()
        seen: set[str] = set()  # reported since the last read of every fill
        recorded: list[Fill] = []
        for op, late in [*program, ("read", False)]:
            if op == "add":
                recorded.append(f := fill(len(recorded)))
                await add(stored, f, late=late, book=book)
                unreported.add(f.fill_id)
            elif op == "read":
                reported, mark = await since(stored, mark, book)
                ids = [f.fill_id for f in reported]
                assert len(set(ids)) == len(ids), "a fill twice in one read"
                assert unreported <= set(ids), f"missed: {unreported - set(ids)}"
                if len(ids) == mark.count:  # said to be every fill: it is
                    assert set(ids) == {f.fill_id for f in recorded}
                    seen.clear()
                else:  # only new ones: a reader adding them up counts none twice
                    assert seen.isdisjoint(ids), f"again: {seen.intersection(ids)}"
                seen.update(ids)
                unreported.clear()
            else:  # a new reader (a restarted process): every fill is reported
                reported, mark = await since(stored, None, book)
                assert {f.fill_id for f in recorded} == {f.fill_id for f in reported}
                assert len(reported) == mark.count
                seen = {f.fill_id for f in reported}
                unreported.clear()
        assert not unreported

    async def main() -> None:
        async with storage(kind, tmp_path) as stored:
            await run(stored)

    asyncio.run(main())


@pytest.mark.postgres
async def test_a_fill_committed_after_a_later_one_was_read_is_reported(tmp_path: Path) -> None:
    """Two PostgreSQL writers: A takes its ``seq`` first and commits after B's fill was read
    (B took the same ``seq``: A's row was not visible to it). A's fill is reported next."""
    async with storage("postgresql", tmp_path) as stored:
        a, b = fill(1), fill(2)
        async with stored.uow_factory() as first:
            assert await first.venue_fills.add(a)  # not committed yet
            async with stored.uow_factory() as second:
                assert await second.venue_fills.add(b)
                await second.commit()
            reported, mark = await since(stored, None)
            assert [f.fill_id for f in reported] == [b.fill_id]
            await first.commit()
        reported, mark = await since(stored, mark)
        assert a.fill_id in {f.fill_id for f in reported}
        reported, _ = await since(stored, mark)
        assert reported == []
