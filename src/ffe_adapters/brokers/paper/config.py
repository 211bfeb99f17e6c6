"""Options of the paper broker (``adapters.paper`` in the config)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PaperOptions(BaseModel):
    """How the paper venue fills orders; costs come from ``trading.*`` settings."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    market_fill: Literal["next_bar_open", "quote"] = "quote"
    """``quote`` (default): a market order fills immediately at the latest quote's ask / bid, as
    a live venue would; ``next_bar_open``: at the open of the first bar that opened at or after
    its acceptance (the backtester's default; use it with real-time bar sources)."""
    interval: str | None = None  # bar interval; ``market_data.interval`` when None
    bars_lookback: int = Field(default=50, ge=1, le=1000)
    commission_fixed: Decimal = Field(default=Decimal(0), ge=0)
    allow_short: bool = True
