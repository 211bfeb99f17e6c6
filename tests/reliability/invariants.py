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


async def check_invariants(uow_factory: UnitOfWorkFactory, settings: Settings) -> LedgerSnapshot:
    """Assert the crash invariants; returns counts for the caller's own checks."""
    async with uow_factory() as uow:
        orders = await uow.orders.list()
        fills = await uow.fills.list()
        ledger = await uow.accounts.load(settings.trading.account_id)
        cycles = await uow.agent.list_cycles(limit=100_000)
        decided = {o.decision_id: await uow.decisions.get(o.decision_id or "") for o in orders}

    ids = Counter(o.client_order_id for o in orders)
    assert not [c for c, n in ids.items() if n > 1], f"duplicate client order ids: {ids}"
    entries = [o for o in orders if not is_bracket(o.client_order_id)]
    per_decision = Counter(o.decision_id for o in entries)
    assert not [d for d, n in per_decision.items() if n > 1], "two orders for one decision"
    for order in orders:
        assert order.decision_id is not None, f"{order.client_order_id} has no decision"
        entry_id = client_order_id_for(order.decision_id)
        # an entry's id derives from its decision; its protective exits from the entry's id
        assert order.client_order_id in (
            entry_id,
            bracket_id(entry_id, "sl"),
            bracket_id(entry_id, "tp"),
        ), f"{order.client_order_id} does not derive from decision {order.decision_id}"
        assert decided[order.decision_id] is not None, (
            f"order {order.client_order_id} reached the broker but decision "
            f"{order.decision_id} is not recorded"
        )
        filled = sum((f.quantity for f in fills if f.client_order_id == order.client_order_id), 0)
        assert filled == order.filled_quantity, f"{order.client_order_id}: fills != order"

    assert len({f.fill_id for f in fills}) == len(fills), "a fill was recorded twice"
    assert {f.client_order_id for f in fills} <= set(ids), "a fill without its order"

    expected = replay(settings.trading.initial_cash, fills)
    if ledger is None:
        assert not fills, "fills recorded but the ledger was never written"
    else:
        assert ledger.cash == expected.cash, f"cash {ledger.cash} != replay {expected.cash}"
        assert ledger.positions == expected.positions, "positions differ from the fill replay"

    by_order = {c.client_order_id: c for c in cycles if c.client_order_id}
    for order in orders:
        cycle = by_order.get(order.client_order_id)
        if cycle is not None:
            assert cycle.decision_id == order.decision_id, "journal names another decision"
    open_phases = {CyclePhase.OBSERVE, CyclePhase.ORIENT, CyclePhase.DECIDE, CyclePhase.ACT}
    return LedgerSnapshot(
        orders=len(orders),
        fills=len(fills),
        decisions_with_orders=sum(1 for d in decided.values() if d is not None),
        unfinished_cycles=sum(1 for c in cycles if c.phase in open_phases),
        recovered_cycles=sum(1 for c in cycles if c.note.startswith(("recovered", "interrupted"))),
        cash=(ledger.cash if ledger is not None else settings.trading.initial_cash),
    )
