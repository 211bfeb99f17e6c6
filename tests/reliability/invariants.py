"""What must hold in storage after any crash: checked straight from the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from ffe_adapters.brokers.paper.execution import bracket_id, is_bracket
from ffe_core.config import Settings
from ffe_core.domain.agent import CyclePhase
from ffe_core.domain.orders import client_order_id_for
from ffe_core.domain.portfolio import replay
from ffe_core.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True)
class LedgerSnapshot:
    orders: int
    fills: int
    decisions_with_orders: int
    unfinished_cycles: int
    recovered_cycles: int
    cash: Decimal
    cycles: int = 0
    """Cycles begun so far (finished, recovered or open)."""


async def check_invariants(
    uow_factory: UnitOfWorkFactory, settings: Settings, *, synced: bool = False
) -> LedgerSnapshot:
    """Assert the crash invariants on the paper venue's own book and on ffe's ledger; with
    ``synced`` (after a clean stop) the ledger must hold every fill the venue has. Returns
    the ledger's counts for the caller's own checks."""
    async with uow_factory() as uow:
        orders = await uow.orders.list()
        fills = await uow.fills.list()
        venue_orders = await uow.venue_orders.list()
        venue_fills = await uow.venue_fills.list()
        book = await uow.accounts.load(settings.trading.account_id)
        cycles = await uow.agent.list_cycles(limit=100_000)
        decided = {
            o.decision_id: await uow.decisions.get(o.decision_id or "")
            for o in [*orders, *venue_orders]
        }
        # what is stored with each decision a cycle names: written in the one transaction
        # that stores the decision, so a crash leaves all of it or none
        named = {c.decision_id for c in cycles if c.decision_id is not None}
        trails = {
            d: (
                await uow.decisions.get(d),
                await uow.flight.get(d),
                await uow.provider_calls.list(decision_id=d, limit=1000),
            )
            for d in named
        }

    for where, listed in (("ledger", orders), ("venue", venue_orders)):
        ids = Counter(o.client_order_id for o in listed)
        assert not [c for c, n in ids.items() if n > 1], f"{where}: duplicate client order ids"
        entries = [o for o in listed if not is_bracket(o.client_order_id)]
        per_decision = Counter(o.decision_id for o in entries)
        assert not [d for d, n in per_decision.items() if n > 1], (
            f"{where}: two orders, one decision"
        )
        for order in listed:
            assert order.decision_id is not None, (
                f"{where}: {order.client_order_id} has no decision"
            )
            entry_id = client_order_id_for(order.decision_id)
            # an entry's id derives from its decision; its protective exits from the entry's id
            assert order.client_order_id in (
                entry_id,
                bracket_id(entry_id, "sl"),
                bracket_id(entry_id, "tp"),
            ), f"{where}: {order.client_order_id} does not derive from {order.decision_id}"
            assert decided[order.decision_id] is not None, (
                f"{where}: order {order.client_order_id} exists but decision "
                f"{order.decision_id} is not recorded"
            )

    # the venue's book: its fills make its orders and its account
    for order in venue_orders:
        filled = sum(
            (f.quantity for f in venue_fills if f.client_order_id == order.client_order_id), 0
        )
        assert filled == order.filled_quantity, f"venue: {order.client_order_id}: fills != order"
    assert len({f.fill_id for f in venue_fills}) == len(venue_fills), "venue: a fill twice"
    assert {f.client_order_id for f in venue_fills} <= {o.client_order_id for o in venue_orders}
    expected = replay(settings.trading.initial_cash, venue_fills)
    if book is None:
        assert not venue_fills, "venue fills recorded but its account was never written"
    else:
        assert book.cash == expected.cash, f"cash {book.cash} != replay {expected.cash}"
        assert book.positions == expected.positions, "positions differ from the fill replay"

    # the ledger: recorded before sending, so every entry the venue has is in it; its fills are
    # the venue's (never more, never different) and match its orders
    ledger_ids = {o.client_order_id for o in orders}
    unrecorded = [
        o.client_order_id
        for o in venue_orders
        if not is_bracket(o.client_order_id) and o.client_order_id not in ledger_ids
    ]
    assert not unrecorded, f"orders reached the venue without the ledger: {unrecorded}"
    by_id = {f.fill_id: f for f in venue_fills}
    assert len({f.fill_id for f in fills}) == len(fills), "ledger: a fill recorded twice"
    assert all(by_id.get(f.fill_id) == f for f in fills), "ledger: a fill the venue never made"
    assert {f.client_order_id for f in fills} <= ledger_ids, "ledger: a fill without its order"
    for order in orders:
        filled = sum((f.quantity for f in fills if f.client_order_id == order.client_order_id), 0)
        assert filled == order.filled_quantity, f"ledger: {order.client_order_id}: fills != order"
    if synced:
        assert sorted(by_id) == sorted(f.fill_id for f in fills), "ledger lags the venue"

    by_order = {c.client_order_id: c for c in cycles if c.client_order_id}
    for order in orders:
        cycle = by_order.get(order.client_order_id)
        if cycle is not None:
            assert cycle.decision_id == order.decision_id, "journal names another decision"
    for decision_id, (decision, record, calls) in trails.items():
        if decision is None:  # named by a cycle entry not written (yet): nothing of it stored
            assert record is None and not calls, f"{decision_id}: record or calls, no decision"
            continue
        assert record is not None, f"decision {decision_id} stored without its flight record"
        assert sorted(c.provider for c in calls) == sorted(v.provider for v in decision.votes), (
            f"decision {decision_id}: its ledger rows are not one per vote"
        )
    open_phases = {CyclePhase.OBSERVE, CyclePhase.ORIENT, CyclePhase.DECIDE, CyclePhase.ACT}
    return LedgerSnapshot(
        orders=len(orders),
        fills=len(fills),
        decisions_with_orders=sum(1 for d in decided.values() if d is not None),
        unfinished_cycles=sum(1 for c in cycles if c.phase in open_phases),
        recovered_cycles=sum(1 for c in cycles if c.note.startswith(("recovered", "interrupted"))),
        cycles=len(cycles),
        cash=(book.cash if book is not None else settings.trading.initial_cash),
    )
