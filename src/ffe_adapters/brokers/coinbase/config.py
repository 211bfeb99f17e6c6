"""Options of the Coinbase adapters (``adapters.coinbase`` in the config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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


class CoinbaseOptions(BaseModel):
    """Credentials are a CDP API key name and its EC private key (PEM)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    host: str = "api.coinbase.com"  # the SDK always speaks https to this host
    timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    max_retry_wait_seconds: float = Field(default=30.0, ge=0)
    quote_currency: str = "USD"
    order_lookup_limit: int = Field(default=100, ge=1, le=1000)
    symbols: dict[str, str] = Field(default_factory=dict)  # ffe symbol -> product id overrides

    def product_id(self, symbol: str) -> str:
        """``BTC-USD`` is ``BTC-USD`` on Coinbase unless overridden."""
        return self.symbols.get(symbol, symbol)

    def symbol(self, product_id: str) -> str:
        reverse = {v: k for k, v in self.symbols.items()}
        return reverse.get(product_id, product_id)
