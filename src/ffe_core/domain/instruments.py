"""Instruments and the increments a venue accepts for them."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class AssetClass(StrEnum):
    CRYPTO = "crypto"
    FOREX = "forex"
    EQUITY = "equity"


def round_to_increment(value: Decimal, increment: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
    """Round ``value`` to a multiple of ``increment`` (towards zero by default, so size never grows)."""
    if increment <= 0:
        raise ValueError("increment must be positive")
    steps = (value / increment).to_integral_value(rounding=rounding)
    return (steps * increment).quantize(increment)


class Instrument(BaseModel):
    """A tradable symbol in ffe's canonical form (``BTC-USD``, ``EUR-USD``, ``AAPL``)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    symbol: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9._\-/]*$")
    asset_class: AssetClass
    base: str = Field(min_length=1, max_length=16)
    quote: str = Field(min_length=1, max_length=16)
    price_increment: Decimal = Field(default=Decimal("0.01"), gt=0)
    size_increment: Decimal = Field(default=Decimal("1"), gt=0)
    min_size: Decimal = Field(default=Decimal("0"), ge=0)

    @field_validator("symbol", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _min_size_on_grid(self) -> Instrument:
        try:
            off_grid = bool(self.min_size) and self.min_size % self.size_increment != 0
        except InvalidOperation:  # the quotient exceeds Decimal precision (1e30 % 1e-30)
            raise ValueError("min_size is too large a multiple of size_increment") from None
        if off_grid:
            raise ValueError("min_size must be a multiple of size_increment")
        return self

    def round_size(self, size: Decimal) -> Decimal:
        """Round a quantity down to the size increment; below ``min_size`` it becomes 0."""
        rounded = round_to_increment(abs(size), self.size_increment, ROUND_DOWN)
        if rounded < self.min_size:
            return Decimal(0).quantize(self.size_increment)
        return rounded if size >= 0 else -rounded

    def round_price(self, price: Decimal) -> Decimal:
        """Round a price to the nearest tick."""
        return round_to_increment(price, self.price_increment, ROUND_HALF_EVEN)
