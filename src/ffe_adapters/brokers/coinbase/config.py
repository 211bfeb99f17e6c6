"""Options of the Coinbase adapters (``adapters.coinbase`` in the config)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ffe_core.domain.errors import ConfigError
from ffe_core.ports.brokers import VenueKind

LIVE_HOST = "api.coinbase.com"
SANDBOX_HOST = "api-sandbox.coinbase.com"
"""Coinbase's static Advanced Trade sandbox: no auth, pre-defined answers, no real orders."""
HOSTS: dict[str, str] = {"sandbox": SANDBOX_HOST, "live": LIVE_HOST}
VENUES: dict[str, VenueKind] = {"sandbox": VenueKind.SANDBOX, "live": VenueKind.LIVE}

INTERVALS: dict[str, str] = {
    "1m": "ONE_MINUTE",
    "5m": "FIVE_MINUTE",
    "15m": "FIFTEEN_MINUTE",
    "30m": "THIRTY_MINUTE",
    "1h": "ONE_HOUR",
    "2h": "TWO_HOUR",
    "6h": "SIX_HOUR",
    "1d": "ONE_DAY",
}
"""ffe interval -> Coinbase candle granularity."""

INTERVAL_SECONDS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
}


def _hostname(host: str) -> str:
    """``HTTPS://API.coinbase.com:443/`` -> ``api.coinbase.com``."""
    text = host.strip()
    return (urlsplit(text if "://" in text else f"//{text}").hostname or "").rstrip(".")


class CoinbaseOptions(BaseModel):
    """Credentials are a CDP API key name and its EC private key (PEM).

    ``environment`` (``sandbox`` by default, or ``live``) picks the host and declares what the
    broker's orders reach. ``base_url`` (``https://api-sandbox.coinbase.com``,
    ``http://127.0.0.1:8080`` for a local fake) points every call elsewhere; ``host`` is the older
    host-only form of it (always https).
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    environment: Literal["sandbox", "live"] = "sandbox"
    base_url: str | None = None
    host: str | None = None  # host only, always https (base_url is the general form)
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    max_retry_wait_seconds: float = Field(default=30.0, ge=0)
    quote_currency: str = "USD"
    order_lookup_limit: int = Field(default=100, ge=1, le=1000)
    """Orders (and fills) asked for per page; pages are followed through ``cursor``."""
    max_pages: int = Field(default=50, ge=1, le=1000)
    """How many pages a listing follows at most (``order_lookup_limit`` items each)."""
    symbols: dict[str, str] = Field(default_factory=dict)  # ffe symbol -> product id overrides

    @model_validator(mode="after")
    def _one_address(self) -> CoinbaseOptions:
        if self.base_url is not None and self.host is not None:
            raise ValueError("set adapters.coinbase.base_url or host, not both")
        if self.base_url is not None and urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"adapters.coinbase.base_url {self.base_url!r} is not an http(s) URL")
        return self

    @property
    def venue(self) -> VenueKind:
        return VENUES[self.environment]

    def _override(self) -> str | None:
        """The configured address as ``scheme://host[:port]``, if any."""
        raw = (self.base_url or self.host or "").strip()
        if not raw:
            return None
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        return f"{parts.scheme.lower()}://{parts.netloc}"

    def trading_url(self) -> str:
        """Where orders go; a sandbox environment pointed at the live host is refused."""
        url = self._override() or f"https://{HOSTS[self.environment]}"
        if self.environment == "sandbox" and _hostname(url) == LIVE_HOST:
            raise ConfigError(
                f"adapters.coinbase points at {LIVE_HOST} but adapters.coinbase.environment "
                "is sandbox: set environment: live for real orders, or drop base_url / host"
            )
        return url

    def data_url(self) -> str:
        """Where read-only market data comes from: the live host unless overridden (public
        candles and order books are not in the sandbox, and reading them places no order)."""
        return self._override() or f"https://{LIVE_HOST}"

    def product_id(self, symbol: str) -> str:
        """``BTC-USD`` is ``BTC-USD`` on Coinbase unless overridden."""
        return self.symbols.get(symbol, symbol)

    def symbol(self, product_id: str) -> str:
        reverse = {v: k for k, v in self.symbols.items()}
        return reverse.get(product_id, product_id)
