"""Registers the ``alphavantage`` market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.market_data.alphavantage.config import AlphaVantageOptions
from ffe_adapters.market_data.alphavantage.data import AlphaVantageSource


def build(ctx: AdapterContext) -> AlphaVantageSource:
    return AlphaVantageSource(
        AlphaVantageOptions.model_validate(dict(ctx.options)), clock=ctx.clock
    )


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"alphavantage": build}
