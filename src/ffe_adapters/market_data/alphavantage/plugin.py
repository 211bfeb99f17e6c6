"""Registers the ``alphavantage`` market data source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl

if TYPE_CHECKING:  # the source (and its HTTP or file stack) loads when it is selected
    from ffe_adapters.market_data.alphavantage.data import AlphaVantageSource


def build(ctx: AdapterContext) -> AlphaVantageSource:
    from ffe_adapters.market_data.alphavantage.config import AlphaVantageOptions
    from ffe_adapters.market_data.alphavantage.data import AlphaVantageSource

    return AlphaVantageSource(ctx.parse_options(AlphaVantageOptions), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"alphavantage": build}
