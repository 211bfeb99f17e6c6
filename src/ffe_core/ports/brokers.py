"""Brokers: where orders go and account state comes from."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from ffe_core.domain.market import Quote
from ffe_core.domain.orders import Fill, FillMark, Order
from ffe_core.domain.portfolio import Portfolio


class VenueKind(StrEnum):
    """What a broker adapter talks to; the container refuses ``live`` unless live trading is
    configured and confirmed (``trading.mode: live`` and ``trading.confirm_live: true``)."""

    SIMULATED = "simulated"  # no venue at all (the paper broker)
    SANDBOX = "sandbox"  # a venue's test environment: no real money
    LIVE = "live"  # real orders, real money


@runtime_checkable
class Broker(Protocol):
    """A venue (or the paper simulator). Orders are keyed by their client order id.

    Only ``ffe_core.services.execution.ExecutionGate`` calls :meth:`submit_order`; the gate
    records every order and fill in the ledger, so an adapter only talks to its venue.
    """

    name: str
    venue: VenueKind
    """Declared by every adapter: what its orders reach (checked before any order is sent)."""

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

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        """Fills the venue reports (of one order, or recent ones of the account), each with a
        stable ``fill_id`` so recording them again changes nothing."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class MarketDrivenVenue(Protocol):
    """A declared capability: a simulated venue that fills resting orders only when told to look
    at the market (the paper broker). The agent calls it before bringing the ledger up to date."""

    async def process_market(self) -> list[Order]:
        """Re-check resting orders against the latest market; returns those that changed."""
        ...


@runtime_checkable
class QuotedFills(Protocol):
    """A declared capability: a venue that says which quote it filled an order against (the
    paper broker filling at quotes). The gate keeps that quote in the decision's flight record,
    so the parity shadow replays the fill by the same rule on the same quote."""

    async def fill_quote(self, client_order_id: str) -> Quote | None:
        """The quote the order's fill met, or None (not filled at a quote, or forgotten)."""
        ...


@runtime_checkable
class FillFeed(Protocol):
    """A declared capability: a venue that reports the fills recorded since an earlier read
    (the paper broker), so bringing the ledger up to it reads what is new, not its history."""

    async def fills_since(self, mark: FillMark | None) -> tuple[list[Fill], FillMark]:
        """Fills recorded after ``mark`` (all, for None; never one missed, some possibly
        again) and the mark to hand back next time."""
        ...
