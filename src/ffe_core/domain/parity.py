"""Live / backtest parity: the venue's fills beside the backtester's fill model on the same bars."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ParityStatus(StrEnum):
    BOTH = "both"  # the venue and the shadow filled it
    VENUE_ONLY = "venue_only"  # the venue filled what the fill model would not have
    SHADOW_ONLY = "shadow_only"  # the fill model would have filled what the venue did not
    PENDING = "pending"  # no bar seen yet to judge it on


class ParityFill(BaseModel):
    """One order of the ledger judged against the fill model on the bars the agent saw."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    client_order_id: str
    decision_id: str | None = None
    instrument: str
    side: str
    quantity: Decimal
    order_type: str = "market"
    exit: bool = False
    """A venue-side protective exit (stop-loss / take-profit) of the decision's entry."""
    status: ParityStatus
    venue_price: Decimal | None = None
    shadow_price: Decimal | None = None
    quote: bool = False
    """Judged on the quote the venue filled at (recorded in the flight record), not on a bar."""
    slippage_bps: float | None = None
    """Venue against shadow, in basis points, positive when the venue filled worse."""
    pnl_divergence: Decimal = Decimal(0)
    """What the venue's fill cost beyond the shadow's (price and commission), in quote ccy."""


class ParityReport(BaseModel):
    """One UTC day's parity: a score of 1.0 means every fill matched the fill model exactly."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    day: date
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    """Mean agreement of the judged orders (None when none could be judged yet)."""
    tolerance_bps: float
    judged: int = 0
    venue_only: int = 0
    shadow_only: int = 0
    mean_slippage_bps: float | None = None
    pnl_divergence: Decimal = Decimal(0)
    fills: tuple[ParityFill, ...] = ()
