"""Market data: OHLCV bars and quotes, always in UTC."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator


def ensure_utc(value: datetime) -> datetime:
    """Reject naive datetimes and convert aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-14:00 is past datetime.max in UTC
        raise ValueError("timestamp is out of range in UTC") from None


UtcDatetime = Annotated[datetime, AfterValidator(ensure_utc)]
"""A datetime that is always timezone-aware and in UTC."""


class Bar(BaseModel):
    """One OHLCV candle that opened at ``ts`` (UTC). Floats: bars feed indicators, not the ledger."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    ts: UtcDatetime
    open: float = Field(gt=0)
    high: float = Field(gt=0)
    low: float = Field(gt=0)
    close: float = Field(gt=0)
    volume: float = Field(default=0.0, ge=0)

    @field_validator("open", "high", "low", "close", "volume")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Bar:
        if self.high < self.low:
            raise ValueError(f"high {self.high} < low {self.low}")
        if not (self.low <= self.open <= self.high and self.low <= self.close <= self.high):
            raise ValueError("open and close must lie within [low, high]")
        return self


class Quote(BaseModel):
    """Top of book for one instrument at ``ts``."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    symbol: str
    ts: UtcDatetime
    bid: Decimal = Field(gt=0)
    ask: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _not_crossed(self) -> Quote:
        if self.ask < self.bid:
            raise ValueError(f"ask {self.ask} < bid {self.bid}")
        return self

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2
