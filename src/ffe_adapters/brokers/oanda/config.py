"""Options of the OANDA adapters (``adapters.oanda`` in the config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

GRANULARITY: dict[str, str] = {
    "1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30",
    "1h": "H1", "2h": "H2", "4h": "H4", "6h": "H6", "1d": "D",
}  # fmt: skip
"""ffe interval -> OANDA candle granularity."""


class OandaOptions(BaseModel):
    """``environment`` is ``practice`` or ``live`` (or a name registered for a local fake)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr | None = None
    account_id: str | None = None
    environment: str = "practice"
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    max_retry_wait_seconds: float = Field(default=30.0, ge=0)

    @staticmethod
    def instrument(symbol: str) -> str:
        """``EUR-USD`` -> ``EUR_USD``."""
        return symbol.replace("-", "_").replace("/", "_")

    @staticmethod
    def symbol(instrument: str) -> str:
        """``EUR_USD`` -> ``EUR-USD``."""
        return instrument.replace("_", "-")
