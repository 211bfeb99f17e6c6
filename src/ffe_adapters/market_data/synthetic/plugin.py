"""Registers the ``synthetic`` market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.market_data.synthetic.config import SyntheticOptions
from ffe_adapters.market_data.synthetic.data import SyntheticSource


def build(ctx: AdapterContext) -> SyntheticSource:
    return SyntheticSource(ctx.parse_options(SyntheticOptions), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"synthetic": build}
