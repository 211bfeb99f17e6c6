"""Options of the OANDA adapters (``adapters.oanda`` in the config)."""

from __future__ import annotations

from urllib.parse import urlsplit

from oandapyV20.oandapyV20 import TRADING_ENVIRONMENTS
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ffe_core.domain.errors import ConfigError
from ffe_core.ports.brokers import VenueKind

GRANULARITY: dict[str, str] = {
    "1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30",
    "1h": "H1", "2h": "H2", "4h": "H4", "6h": "H6", "1d": "D",
}  # fmt: skip
"""ffe interval -> OANDA candle granularity."""


def _url(url: str) -> str:
    return url.strip().rstrip("/").lower()


class OandaOptions(BaseModel):
    """``environment`` is ``practice`` or ``live`` (or a name registered in
    ``oandapyV20.oandapyV20.TRADING_ENVIRONMENTS``). ``base_url`` (e.g. ``http://127.0.0.1:8080``
    for a local fake) sends every call there instead; ``environment`` still declares what it is
    (a ``base_url`` that is the live API counts as live whatever it says)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    access_token: SecretStr | None = None
    account_id: str | None = None
    environment: str = "practice"
    base_url: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    max_retry_wait_seconds: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _http_base_url(self) -> OandaOptions:
        if self.base_url is not None and urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"adapters.oanda.base_url {self.base_url!r} is not an http(s) URL")
        return self

    @property
    def venue(self) -> VenueKind:
        """LIVE for ``live`` and for any environment whose API is the live one (or that is not
        registered, so nothing unknown passes as a sandbox); SANDBOX otherwise."""
        live_api = _url(TRADING_ENVIRONMENTS["live"]["api"])
        if self.environment == "live":
            return VenueKind.LIVE
        if self.base_url is not None:
            return VenueKind.LIVE if _url(self.base_url) == live_api else VenueKind.SANDBOX
        registered = TRADING_ENVIRONMENTS.get(self.environment)
        if registered is None:
            return VenueKind.LIVE
        return VenueKind.LIVE if _url(registered.get("api", "")) == live_api else VenueKind.SANDBOX

    def sdk_environment(self) -> str:
        """The ``oandapyV20`` environment name to use: ``environment``, or one registered for
        ``base_url`` (the SDK reads its URLs from that module-level table only)."""
        if self.base_url is None:
            if self.environment not in TRADING_ENVIRONMENTS:
                raise ConfigError(f"adapters.oanda.environment {self.environment!r} is unknown")
            return self.environment
        if self.environment not in ("practice", "live"):
            raise ConfigError("adapters.oanda.base_url goes with environment practice or live")
        url = self.base_url.strip().rstrip("/")
        name = f"ffe:{self.environment}:{url}"
        TRADING_ENVIRONMENTS.setdefault(name, {"api": url, "stream": url})
        return name

    @staticmethod
    def instrument(symbol: str) -> str:
        """``EUR-USD`` -> ``EUR_USD``."""
        return symbol.replace("-", "_").replace("/", "_")

    @staticmethod
    def symbol(instrument: str) -> str:
        """``EUR_USD`` -> ``EUR-USD``."""
        return instrument.replace("_", "-")
