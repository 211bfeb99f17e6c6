"""Options for the ``alphavantage`` source (``adapters.alphavantage.*``)."""

from __future__ import annotations

from pydantic import Field

from ffe_adapters.market_data.http import HttpSourceOptions


class AlphaVantageOptions(HttpSourceOptions):
    base_url: str = "https://www.alphavantage.co"
    requests_per_minute: float = Field(default=5.0, gt=0)
