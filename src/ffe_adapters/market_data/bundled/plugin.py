"""Registers the ``bundled`` market data source (the default, offline)."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.market_data.bundled.config import BundledOptions
from ffe_adapters.market_data.bundled.data import BundledSource


def build(ctx: AdapterContext) -> BundledSource:
    return BundledSource(ctx.parse_options(BundledOptions), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"bundled": build}
