"""Positions, account state and the ledger rule that turns fills into them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ffe_core.domain.orders import Fill

ZERO = Decimal(0)


class TradingMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class Position(BaseModel):
    """Net position in one instrument; ``quantity`` is signed (short < 0)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    instrument: str = Field(max_length=32)
    quantity: Decimal = ZERO
    average_price: Decimal = Field(default=ZERO, ge=0)
    realized_pnl: Decimal = ZERO

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    def market_value(self, price: Decimal) -> Decimal:
        return self.quantity * price

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        return (price - self.average_price) * self.quantity

    def apply(self, fill: Fill) -> Position:
        """The position after ``fill``: averages when adding, realizes P&L when reducing or flipping."""
        q, delta = self.quantity, fill.signed_quantity
        realized = self.realized_pnl
        if q == 0 or (q > 0) == (delta > 0):
            new_q = q + delta
            avg = (abs(q) * self.average_price + abs(delta) * fill.price) / abs(new_q)
            return self.model_copy(update={"quantity": new_q, "average_price": avg})
        closing = min(abs(q), abs(delta))
        realized += closing * (fill.price - self.average_price) * (1 if q > 0 else -1)
        new_q = q + delta
        if new_q == 0:
            avg = ZERO
        elif (new_q > 0) == (q > 0):
            avg = self.average_price
        else:
            avg = fill.price
        return self.model_copy(
            update={"quantity": new_q, "average_price": avg, "realized_pnl": realized}
        )


class Portfolio(BaseModel):
    """Cash plus positions: the account state a broker reports and the risk manager reads."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    cash: Decimal
    positions: dict[str, Position] = Field(default_factory=dict)
    currency: str = Field(default="USD", max_length=8)
    mode: TradingMode = TradingMode.PAPER

    @model_validator(mode="after")
    def _positions_under_their_instrument(self) -> Portfolio:
        """The ledger stores one row per instrument: a position filed under another key would
        come back under its own, or collide with the one that has it."""
        misfiled = [k for k, p in self.positions.items() if k != p.instrument]
        if misfiled:
            raise ValueError(f"positions {misfiled[:3]} are not keyed by their instrument")
        return self

    def position(self, instrument: str) -> Position:
        return self.positions.get(instrument) or Position(instrument=instrument)

    def equity(self, prices: Mapping[str, Decimal]) -> Decimal:
        """Cash plus marked value; a position without a price is marked at its average price."""
        return self.cash + sum(
            (p.market_value(prices.get(s, p.average_price)) for s, p in self.positions.items()),
            ZERO,
        )

    def gross_exposure(self, prices: Mapping[str, Decimal]) -> Decimal:
        return sum(
            (
                abs(p.market_value(prices.get(s, p.average_price)))
                for s, p in self.positions.items()
            ),
            ZERO,
        )

    def apply(self, fill: Fill) -> Portfolio:
        """The account after ``fill``: cash pays for it and its commission."""
        pos = self.position(fill.instrument).apply(fill)
        positions = {**self.positions, fill.instrument: pos}
        if pos.is_flat and pos.realized_pnl == 0:
            positions.pop(fill.instrument)
        cash = self.cash - fill.signed_quantity * fill.price - fill.commission
        return self.model_copy(update={"cash": cash, "positions": positions})


def replay(initial_cash: Decimal, fills: Iterable[Fill], **kwargs: object) -> Portfolio:
    """Rebuild account state from the fill history; the ledger must always equal this."""
    book = Portfolio.model_validate({"cash": initial_cash, **kwargs})
    for fill in fills:
        book = book.apply(fill)
    return book
