"""Registers the ``twelvedata`` market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.market_data.twelvedata.config import TwelveDataOptions
from ffe_adapters.market_data.twelvedata.data import TwelveDataSource


def build(ctx: AdapterContext) -> TwelveDataSource:
    return TwelveDataSource(TwelveDataOptions.model_validate(dict(ctx.options)), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"twelvedata": build}
