"""The positions ffe last saw: looked at every pass, written only when they changed."""

from __future__ import annotations

from decimal import Decimal

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.services.agent_reports import POSITIONS_KEY, SeenPositions


class Broker:
    """Only what the snapshot asks of a broker: a portfolio the test sets."""

    def __init__(self) -> None:
        self.portfolio = Portfolio(cash=Decimal(1000))

    async def get_portfolio(self) -> Portfolio:
        return self.portfolio


def holding(quantity: str) -> Portfolio:
    position = Position(instrument="BTC-USD", quantity=Decimal(quantity), average_price=Decimal(1))
    return Portfolio(cash=Decimal(900), positions={"BTC-USD": position})


async def test_unchanged_positions_are_not_written_again() -> None:
    broker, store = Broker(), InMemoryUnitOfWorkFactory()
    seen = SeenPositions(broker, store)  # type: ignore[arg-type]
    await seen.remember()
    assert store.commits == 1
    for _ in range(5):
        assert await seen.remember() == {}
    assert store.commits == 1, "a pass that saw the same positions wrote again"
    broker.portfolio = holding("2")
    assert await seen.remember() == {"BTC-USD": "2"}
    assert store.commits == 2
    async with store() as uow:
        assert await uow.state.get(POSITIONS_KEY) == {
            "positions": {"BTC-USD": "2"},
            "cash": "900",
        }


async def test_reconciliation_writes_when_the_stored_view_differs_from_the_last_written() -> None:
    broker, store = Broker(), InMemoryUnitOfWorkFactory()
    seen = SeenPositions(broker, store)  # type: ignore[arg-type]
    broker.portfolio = holding("2")
    await seen.remember()
    async with store() as uow:  # the key as another agent run left it
        await uow.state.put(POSITIONS_KEY, {"positions": {}, "cash": "1000"})
        await uow.commit()
    assert await seen.reconcile() == ({"BTC-USD": ("0", "2")}, True)
    async with store() as uow:
        assert (await uow.state.get(POSITIONS_KEY) or {})["positions"] == {"BTC-USD": "2"}
    assert await seen.reconcile() == ({}, True)
