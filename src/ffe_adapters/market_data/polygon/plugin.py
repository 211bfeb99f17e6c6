"""Registers the ``polygon`` market data source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl

if TYPE_CHECKING:  # the source (and its HTTP or file stack) loads when it is selected
    from ffe_adapters.market_data.polygon.data import PolygonSource


def build(ctx: AdapterContext) -> PolygonSource:
    from ffe_adapters.market_data.polygon.config import PolygonOptions
    from ffe_adapters.market_data.polygon.data import PolygonSource

    return PolygonSource(ctx.parse_options(PolygonOptions), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"polygon": build}
