"""Registers the ``coingecko`` market data source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl

if TYPE_CHECKING:  # the source (and its HTTP or file stack) loads when it is selected
    from ffe_adapters.market_data.coingecko.data import CoinGeckoSource


def build(ctx: AdapterContext) -> CoinGeckoSource:
    from ffe_adapters.market_data.coingecko.config import CoinGeckoOptions
    from ffe_adapters.market_data.coingecko.data import CoinGeckoSource

    return CoinGeckoSource(ctx.parse_options(CoinGeckoOptions), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"coingecko": build}
