"""Options of the quant providers (``adapters.trend``, ``adapters.mean_reversion``, ...)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Options(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    atr_stop: float = Field(default=2.0, gt=0)
    reward_risk: float = Field(default=2.0, gt=0)


class TrendOptions(_Options):
    fast: int = Field(default=20, ge=2)
    slow: int = Field(default=50, ge=3)


class MeanReversionOptions(_Options):
    oversold: float = Field(default=30.0, gt=0, lt=50)
    overbought: float = Field(default=70.0, gt=50, lt=100)


class BreakoutOptions(_Options):
    lookback: int = Field(default=20, ge=5)
