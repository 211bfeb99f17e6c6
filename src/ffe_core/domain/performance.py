"""Per-provider performance and the ensemble weight learned from it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import utcnow
from ffe_core.domain.market import UtcDatetime

PROVISIONAL_BELOW = 30
"""A provider's scores rest on fewer scored votes than this: shown as provisional."""


class ProviderStats(BaseModel):
    """Running record of how a provider's votes turned out."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str = Field(max_length=64)
    weight: float = Field(default=1.0, gt=0)
    votes: int = Field(default=0, ge=0)
    scored: int = Field(default=0, ge=0)
    hits: int = Field(default=0, ge=0)
    brier_sum: float = Field(default=0.0, ge=0)
    pnl: float = 0.0
    last_reason: str = ""
    updated_at: UtcDatetime = Field(default_factory=utcnow)

    @property
    def provisional(self) -> bool:
        """Scored, but on too few votes to trust the hit rate and calibration yet."""
        return 0 < self.scored < PROVISIONAL_BELOW

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.scored if self.scored else None

    @property
    def brier(self) -> float | None:
        return self.brier_sum / self.scored if self.scored else None
