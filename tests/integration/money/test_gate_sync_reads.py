"""The ledger sync each pass: the ledger is asked about a venue fill only when the venue reports
one not yet seen in it, and then only about that fill and its order (by id: the ledger's
history is never read whole), and a venue declaring FillFeed is asked only for the fills
recorded since the last read. What the gate remembers follows the venue's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from ffe_adapters.storage import memory
from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.decisions import Action
from ffe_core.domain.orders import Fill, FillMark, Order, OrderStatus, OrderType, Side
from ffe_core.ports.brokers import FillFeed
from tests.integration.money.test_gate_properties import build, decide
from tests.integration.money.venue import FakeVenue


async def test_a_sync_with_no_new_fill_reads_no_ledger_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = build(InMemoryUnitOfWorkFactory(), policy_always=False)
    decision = await decide(w, "BTC-USD", Action.BUY, 0.9)
    result = await w.gate.execute(decision)
    assert result.sent and result.order is not None
    await w.gate.sync()
    reads: list[Any] = []
    listing = memory._Orders.list

    async def counted(self: Any, **kwargs: Any) -> Any:
        reads.append(kwargs)
        return await listing(self, **kwargs)

    monkeypatch.setattr(memory._Orders, "list", counted)
    assert await w.gate.sync() == []
    assert all("status" in r for r in reads), f"all ledger orders were read: {reads}"
    async with w.uow() as uow:
        assert len(await uow.fills.list()) == len(await w.venue.list_fills())


async def test_a_new_venue_fill_is_looked_up_by_id_never_by_reading_the_ledger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ledger is asked nothing with no new venue fill; with one, only whether that fill
    is recorded and for its order and the entry it protects: the whole fill and order history
    is never read (it was, on every venue-side exit: a cost growing with the ledger)."""
    w = build(InMemoryUnitOfWorkFactory(), policy_always=False)
    for action in (Action.BUY, Action.SELL, Action.BUY):
        decision = await decide(w, "BTC-USD", action, 0.9)
        assert (await w.gate.execute(decision)).sent
    await w.gate.sync()
    listed: list[Any] = []
    asked: list[list[str]] = []
    fills_list, orders_list, recorded = (
        memory._Fills.list,
        memory._Orders.list,
        memory._Fills.recorded,
    )

    async def list_fills(self: Any, *args: Any, **kwargs: Any) -> Any:
        listed.append(("fills", args, kwargs))
        return await fills_list(self, *args, **kwargs)

    async def list_orders(self: Any, **kwargs: Any) -> Any:
        if "status" not in kwargs:  # the working orders are read each pass, by status
            listed.append(("orders", kwargs))
        return await orders_list(self, **kwargs)

    async def asked_about(self: Any, fill_ids: Any) -> set[str]:
        asked.append(sorted(fill_ids))
        return await recorded(self, fill_ids)

    monkeypatch.setattr(memory._Fills, "list", list_fills)
    monkeypatch.setattr(memory._Orders, "list", list_orders)
    monkeypatch.setattr(memory._Fills, "recorded", asked_about)
    assert await w.gate.sync() == []
    assert (listed, asked) == ([], []), "the ledger was read with no new venue fill"
    w.venue.fill(venue_side_order(w, "exit-1"))
    new = [f.fill_id for f in w.venue.fills if f.client_order_id == "exit-1"]
    assert [o.client_order_id for o in await w.gate.sync()] == ["exit-1"]
    assert listed == [], f"the ledger's history was read for one new fill: {listed}"
    assert asked == [new]
    assert await w.gate.sync() == []
    assert asked == [new], "a recorded fill was looked up again"


async def test_what_the_gate_remembers_of_the_ledger_follows_the_venues_report() -> None:
    """Fills a FillFeed venue reported once are not kept for ever: after many trades the gate
    holds only the ids of the last report (it held every fill id of the process's life)."""
    uow = InMemoryUnitOfWorkFactory()
    w = build(uow, policy_always=False)
    venue = FeedVenue(w.venue.market, w.venue.limits)
    w.venue = venue
    w.gate.broker = venue
    for action in [Action.BUY, Action.SELL] * 6:
        decision = await decide(w, "BTC-USD", action, 0.9)
        assert (await w.gate.execute(decision)).sent
        before = len(venue.fills)
        await w.gate.sync()
        assert len(w.gate._in_ledger) <= len(venue.fills) - before + 1
    async with uow() as u:
        assert [f.fill_id for f in await u.fills.list()] == [f.fill_id for f in venue.fills]
    assert len(venue.fills) >= 12


@dataclass
class FeedVenue(FakeVenue):
    """The fake venue declaring FillFeed (fills past the mark, in recording order), and
    answering ``get_order`` with None once for each client order id in ``late``."""

    late: set[str] = field(default_factory=set)
    feed_reads: int = 0

    async def fills_since(self, mark: FillMark | None) -> tuple[list[Fill], FillMark]:
        self.feed_reads += 1
        after = 0 if mark is None else mark.count
        return self.fills[after:], FillMark(seq=len(self.fills), count=len(self.fills))

    async def get_order(self, client_order_id: str) -> Order | None:
        if client_order_id in self.late:
            self.late.discard(client_order_id)
            return None
        return await super().get_order(client_order_id)


def venue_side_order(w: Any, client_order_id: str) -> str:
    """An order placed at the venue, not through the gate (e.g. a venue-side exit)."""
    order = Order(
        client_order_id=client_order_id,
        instrument="BTC-USD",
        side=Side.SELL,
        type=OrderType.MARKET,
        quantity=Decimal("0.01"),
    )
    w.venue.orders[client_order_id] = order.model_copy(update={"status": OrderStatus.ACCEPTED})
    return client_order_id


async def test_a_fill_the_feed_reported_once_reaches_the_ledger_even_if_not_recorded_then() -> None:
    """A FillFeed venue reports a fill once; when the sync cannot record it that pass (the
    venue does not show its order yet), the gate keeps it and records it on a later pass."""
    uow = InMemoryUnitOfWorkFactory()
    w = build(uow, policy_always=False)
    venue = FeedVenue(w.venue.market, w.venue.limits)
    w.venue = venue
    w.gate.broker = venue
    assert isinstance(w.gate.broker, FillFeed)
    venue.fill(venue_side_order(w, "exit-1"))
    venue.late.add("exit-1")
    assert await w.gate.sync() == []  # reported, but its order is not shown yet
    changed = await w.gate.sync()  # the feed has nothing new: the kept fill is recorded
    assert [o.client_order_id for o in changed] == ["exit-1"]
    async with uow() as u:
        assert [f.fill_id for f in await u.fills.list()] == [f.fill_id for f in venue.fills]
    assert venue.feed_reads == 2
    assert await w.gate.sync() == []
