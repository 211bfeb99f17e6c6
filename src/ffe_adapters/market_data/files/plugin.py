"""Registers the ``files`` market data source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl

if TYPE_CHECKING:  # the source (and its HTTP or file stack) loads when it is selected
    from ffe_adapters.market_data.files.data import FilesSource


def build(ctx: AdapterContext) -> FilesSource:
    from ffe_adapters.market_data.files.config import FilesOptions
    from ffe_adapters.market_data.files.data import FilesSource

    return FilesSource(ctx.parse_options(FilesOptions), clock=ctx.clock)


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"files": build}
