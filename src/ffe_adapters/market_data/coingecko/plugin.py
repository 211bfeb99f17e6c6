"""Registers the ``coingecko`` market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.market_data.coingecko.config import CoinGeckoOptions
from ffe_adapters.market_data.coingecko.data import CoinGeckoSource


def build(ctx: AdapterContext) -> CoinGeckoSource:
    return CoinGeckoSource(CoinGeckoOptions.model_validate(dict(ctx.options)), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"coingecko": build}
