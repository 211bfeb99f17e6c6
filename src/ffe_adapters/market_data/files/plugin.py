"""Registers the ``files`` market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.market_data.files.config import FilesOptions
from ffe_adapters.market_data.files.data import FilesSource


def build(ctx: AdapterContext) -> FilesSource:
    return FilesSource(FilesOptions.model_validate(dict(ctx.options)), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"files": build}
