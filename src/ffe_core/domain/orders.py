"""Orders, their status lifecycle, and fills."""

from __future__ import annotations

import hashlib
from collections.abc import Sized
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ffe_core.domain.decisions import new_id, utcnow
from ffe_core.domain.errors import InvalidTransition
from ffe_core.domain.market import UtcDatetime


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    DAY = "DAY"


class OrderStatus(StrEnum):
    NEW = "new"  # recorded locally, not yet sent
    SUBMITTED = "submitted"  # sent; venue has not acknowledged (state unknown after a crash)
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
WORKING = frozenset(s for s in OrderStatus if s not in _TERMINAL)
"""The statuses of an order the venue has not finished (``not status.is_terminal``)."""
_OPEN_EXITS = {
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
    OrderStatus.CANCELED,
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
}
ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.SUBMITTED, OrderStatus.REJECTED, OrderStatus.CANCELED}),
    OrderStatus.SUBMITTED: frozenset({OrderStatus.ACCEPTED, *_OPEN_EXITS}),
    OrderStatus.ACCEPTED: frozenset(_OPEN_EXITS),
    OrderStatus.PARTIALLY_FILLED: frozenset(_OPEN_EXITS - {OrderStatus.REJECTED}),
    **{s: frozenset() for s in _TERMINAL},
}


def client_order_id_for(decision_id: str, leg: str = "entry") -> str:
    """Deterministic client order id derived from a decision, so a retry can never duplicate it."""
    digest = hashlib.sha256(f"{decision_id}:{leg}".encode()).hexdigest()[:24]
    return f"ffe-{digest}"


class Order(BaseModel):
    """An instruction to a broker. Immutable: state changes return a new Order."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    client_order_id: str = Field(min_length=1, max_length=64)
    instrument: str = Field(min_length=1, max_length=32)
    side: Side
    type: OrderType = OrderType.MARKET
    quantity: Decimal = Field(gt=0)
    limit_price: Decimal | None = Field(default=None, gt=0)
    stop_price: Decimal | None = Field(default=None, gt=0)
    time_in_force: TimeInForce = TimeInForce.GTC
    stop_loss: Decimal | None = Field(default=None, gt=0)
    take_profit: Decimal | None = Field(default=None, gt=0)
    decision_id: str | None = Field(default=None, max_length=64)
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: Decimal = Field(default=Decimal(0), ge=0)
    average_fill_price: Decimal | None = Field(default=None, gt=0)
    venue_order_id: str | None = None
    reject_reason: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _prices_match_type(self) -> Order:
        if self.type is OrderType.LIMIT and self.limit_price is None:
            raise ValueError("a limit order needs limit_price")
        if self.type is OrderType.STOP and self.stop_price is None:
            raise ValueError("a stop order needs stop_price")
        if self.type is OrderType.MARKET and (self.limit_price or self.stop_price):
            raise ValueError("a market order takes no limit_price or stop_price")
        if self.filled_quantity > self.quantity:
            raise ValueError("filled_quantity exceeds quantity")
        return self

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    def transition(self, status: OrderStatus, **changes: object) -> Order:
        """Move to ``status`` if the lifecycle allows it (same status is a no-op update)."""
        if status is not self.status and status not in ALLOWED_TRANSITIONS[self.status]:
            raise InvalidTransition(f"order {self.client_order_id}: {self.status} -> {status}")
        data = self.model_dump()
        data.update(changes, status=status, updated_at=utcnow())
        return Order.model_validate(data)

    def with_fill(self, fill: Fill) -> Order:
        """Apply a fill: adds to filled quantity, updates average price and status."""
        if fill.client_order_id != self.client_order_id:
            raise ValueError("fill belongs to another order")
        filled = self.filled_quantity + fill.quantity
        if filled > self.quantity:
            raise InvalidTransition(f"order {self.client_order_id}: overfilled")
        prev = (self.average_fill_price or Decimal(0)) * self.filled_quantity
        avg = (prev + fill.price * fill.quantity) / filled
        status = OrderStatus.FILLED if filled == self.quantity else OrderStatus.PARTIALLY_FILLED
        return self.transition(status, filled_quantity=filled, average_fill_price=avg)


class Fill(BaseModel):
    """An execution of (part of) an order."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    fill_id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    client_order_id: str = Field(min_length=1, max_length=64)
    instrument: str = Field(min_length=1, max_length=32)
    side: Side
    quantity: Decimal = Field(gt=0)
    price: Decimal = Field(gt=0)
    commission: Decimal = Field(default=Decimal(0), ge=0)
    ts: UtcDatetime = Field(default_factory=utcnow)

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity * self.side.sign


@dataclass(frozen=True, slots=True)
class FillMark:
    """How far a book's fills were read: the highest ``seq`` (its order of recording) seen and
    how many fills were recorded up to it then. Handed back on the next read, which returns
    only later fills unless the count shows one recorded late with an earlier place."""

    seq: int
    count: int

    def covers(self, fills: Sized) -> bool:
        """Whether the read that returned ``fills`` with this mark returned every fill (the
        first read, or one that found a fill recorded behind its mark): a reader adding reads
        up must then start again rather than count fills twice."""
        return len(fills) == self.count
