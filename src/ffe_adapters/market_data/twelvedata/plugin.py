"""Registers the ``twelvedata`` market data source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl

if TYPE_CHECKING:  # the source (and its HTTP or file stack) loads when it is selected
    from ffe_adapters.market_data.twelvedata.data import TwelveDataSource


def build(ctx: AdapterContext) -> TwelveDataSource:
    from ffe_adapters.market_data.twelvedata.config import TwelveDataOptions
    from ffe_adapters.market_data.twelvedata.data import TwelveDataSource

    return TwelveDataSource(ctx.parse_options(TwelveDataOptions), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"twelvedata": build}
