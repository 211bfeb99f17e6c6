"""Options for the ``polygon`` source (``adapters.polygon.*``)."""

from __future__ import annotations

from pydantic import Field

from ffe_adapters.market_data.http import HttpSourceOptions


class PolygonOptions(HttpSourceOptions):
    base_url: str = "https://api.polygon.io"
    requests_per_minute: float = Field(default=5.0, gt=0)
