"""Options for the ``bundled`` replay source (``adapters.bundled.*``)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class BundledOptions(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    seconds_per_bar: float = Field(default=5.0, gt=0)
    """Clock seconds per replayed bar: every this many seconds one more bar has 'closed'."""
    anchor: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    """Clock time when the replay stood at bar 0; processes sharing it see the same bars."""
    spread_bps: float = Field(default=2.0, ge=0, le=1000)
    """Total bid/ask spread of derived quotes, in basis points of the mid."""

    @field_validator("anchor")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("anchor must include a time zone (e.g. 2024-01-01T00:00:00Z)")
        return value.astimezone(UTC)
