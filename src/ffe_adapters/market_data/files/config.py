"""Options for the ``files`` source (``adapters.files.*``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FilesOptions(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    directory: str = "data/market"
    """Where ``<SYMBOL>_<interval>.csv``, ``<SYMBOL>.csv`` (or .csv.gz/.parquet) are looked up."""
    paths: dict[str, str] = Field(default_factory=dict)
    """Explicit file per symbol (``{"AAPL": "/data/aapl.parquet"}``); wins over ``directory``."""
    timezone: str = "UTC"
    """Zone of naive timestamps in the files."""
    spread_bps: float = Field(default=0.0, ge=0, le=1000)
    """Spread of quotes derived from the last bar's close."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value
