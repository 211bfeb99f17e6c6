"""Options for the ``synthetic`` source (``adapters.synthetic.*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

START_PRICES: dict[str, float] = {
    "BTC-USD": 60000.0,
    "ETH-USD": 3000.0,
    "EUR-USD": 1.08,
    "AAPL": 190.0,
}


class SyntheticOptions(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    seed: int = 42
    start_prices: dict[str, float] = Field(default_factory=dict)
    """First open per symbol; defaults above, else ``default_start_price``."""
    default_start_price: float = Field(default=100.0, gt=0)
    volatility: dict[str, float] = Field(default_factory=dict)
    """Annualised base volatility per symbol; defaults by asset class."""
    spread_bps: float = Field(default=2.0, ge=0, le=1000)
