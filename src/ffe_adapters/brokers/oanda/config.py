"""Options of the OANDA adapters (``adapters.oanda`` in the config)."""

from __future__ import annotations

from oandapyV20.oandapyV20 import TRADING_ENVIRONMENTS
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ffe_core.ports.brokers import VenueKind

GRANULARITY: dict[str, str] = {
    "1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30",
    "1h": "H1", "2h": "H2", "4h": "H4", "6h": "H6", "1d": "D",
}  # fmt: skip
"""ffe interval -> OANDA candle granularity."""


def _url(url: str) -> str:
    return url.strip().rstrip("/").lower()


class OandaOptions(BaseModel):
    """``environment`` is ``practice`` or ``live`` (or a name registered for a local fake in
    ``oandapyV20.oandapyV20.TRADING_ENVIRONMENTS``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr | None = None
    account_id: str | None = None
    environment: str = "practice"
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    max_retry_wait_seconds: float = Field(default=30.0, ge=0)

    @property
    def venue(self) -> VenueKind:
        """LIVE for ``live`` and for any environment whose API is the live one (or that is not
        registered, so nothing unknown passes as a sandbox); SANDBOX otherwise."""
        live_api = _url(TRADING_ENVIRONMENTS["live"]["api"])
        registered = TRADING_ENVIRONMENTS.get(self.environment)
        if self.environment == "live" or registered is None:
            return VenueKind.LIVE
        return VenueKind.LIVE if _url(registered.get("api", "")) == live_api else VenueKind.SANDBOX

    @staticmethod
    def instrument(symbol: str) -> str:
        """``EUR-USD`` -> ``EUR_USD``."""
        return symbol.replace("-", "_").replace("/", "_")

    @staticmethod
    def symbol(instrument: str) -> str:
        """``EUR_USD`` -> ``EUR-USD``."""
        return instrument.replace("_", "-")
