"""A send whose outcome is unknown (the venue timed out) is never resent; once the venue has
still not heard of it after a grace period, the ledger closes it and the instrument trades again;
if the venue did book it after all, its fill reaches the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.decisions import Action
from ffe_core.domain.errors import BrokerUnavailable
from ffe_core.domain.orders import Order, OrderStatus, client_order_id_for
from ffe_core.services.execution import UNACKNOWLEDGED_SECONDS
from tests.integration.money.test_gate_properties import build, decide


@pytest.mark.parametrize("booked", [False, True])
async def test_an_unknown_outcome_is_closed_or_recorded_never_resent(booked: bool) -> None:
    w = build(InMemoryUnitOfWorkFactory(), policy_always=False)
    submit = w.venue.submit_order

    async def timing_out(order: Order) -> Order:
        if booked:
            await submit(order)  # the venue booked (and filled) it; the answer was lost
        raise BrokerUnavailable("fake: no answer within 10s")

    w.venue.submit_order = timing_out  # type: ignore[method-assign]
    decision = await decide(w, "BTC-USD", Action.BUY, 0.9)
    with pytest.raises(BrokerUnavailable):
        await w.gate.execute(decision)
    coid = client_order_id_for(decision.id)
    async with w.uow() as uow:
        assert (await uow.orders.get(coid)).status is OrderStatus.SUBMITTED  # type: ignore[union-attr]
    w.venue.submit_order = submit  # type: ignore[method-assign]

    again = await w.gate.execute(decision)  # the same decision: never sent a second time
    assert again.duplicate and w.venue.sent[coid] == (1 if booked else 0)
    w.clock.now_at += timedelta(seconds=UNACKNOWLEDGED_SECONDS + 1)
    await w.gate.sync()
    async with w.uow() as uow:
        order = await uow.orders.get(coid)
        fills = await uow.fills.list(coid)
    assert order is not None
    if booked:
        assert order.status is OrderStatus.FILLED and sum(f.quantity for f in fills) > 0
    else:
        assert order.status is OrderStatus.EXPIRED and "never acknowledged" in (
            order.reject_reason or ""
        )
        fresh = await decide(w, "BTC-USD", Action.BUY, 0.9)
        assert (await w.gate.execute(fresh)).sent  # the instrument is no longer blocked
        assert w.venue.portfolio.position("BTC-USD").quantity > Decimal(0)
