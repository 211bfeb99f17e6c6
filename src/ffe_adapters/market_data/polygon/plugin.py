"""Registers the ``polygon`` market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.market_data.polygon.config import PolygonOptions
from ffe_adapters.market_data.polygon.data import PolygonSource


def build(ctx: AdapterContext) -> PolygonSource:
    return PolygonSource(PolygonOptions.model_validate(dict(ctx.options)), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"polygon": build}
