"""Brokers: where orders go and account state comes from."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ffe_core.domain.orders import Fill, Order
from ffe_core.domain.portfolio import Portfolio


@runtime_checkable
class Broker(Protocol):
    """A venue (or the paper simulator). Orders are keyed by their client order id."""

    name: str

    async def submit_order(self, order: Order) -> Order:
        """Send ``order``; idempotent per client order id (a resubmission returns the known order)."""
        ...

    async def get_order(self, client_order_id: str) -> Order | None:
        """The venue's view of an order, or None if it never arrived."""
        ...

    async def cancel_order(self, client_order_id: str) -> Order: ...

    async def get_portfolio(self) -> Portfolio:
        """Cash and positions as the venue reports them."""
        ...

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]: ...

    async def close(self) -> None: ...
