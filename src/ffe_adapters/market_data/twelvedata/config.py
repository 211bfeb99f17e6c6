"""Options for the ``twelvedata`` source (``adapters.twelvedata.*``)."""

from __future__ import annotations

from pydantic import Field

from ffe_adapters.market_data.http import HttpSourceOptions


class TwelveDataOptions(HttpSourceOptions):
    base_url: str = "https://api.twelvedata.com"
    requests_per_minute: float = Field(default=8.0, gt=0)
