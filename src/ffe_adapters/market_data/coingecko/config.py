"""Options for the ``coingecko`` source (``adapters.coingecko.*``)."""

from __future__ import annotations

from pydantic import Field

from ffe_adapters.market_data.http import HttpSourceOptions

COIN_IDS: dict[str, str] = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "SOL": "solana",
    "XRP": "ripple",
    "ADA": "cardano",
    "DOGE": "dogecoin",
    "LTC": "litecoin",
    "DOT": "polkadot",
    "AVAX": "avalanche-2",
    "LINK": "chainlink",
}
"""CoinGecko API ids of common base currencies; ``symbols`` in the options adds or overrides."""


class CoinGeckoOptions(HttpSourceOptions):
    base_url: str = "https://api.coingecko.com/api/v3"
    requests_per_minute: float = Field(default=10.0, gt=0)
    api_key_header: str = "x-cg-demo-api-key"
    """``x-cg-pro-api-key`` with the pro base URL (https://pro-api.coingecko.com/api/v3)."""
