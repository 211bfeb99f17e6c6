"""Built-in plugin registering the ``oanda`` broker and market data source; the SDK is imported
only when one of them is built."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl


def create_broker(ctx: AdapterContext) -> Any:
    from ffe_adapters.brokers.oanda.factories import make_oanda_broker

    return make_oanda_broker(ctx)


def create_market_data(ctx: AdapterContext) -> Any:
    from ffe_adapters.brokers.oanda.factories import make_oanda_market_data

    return make_oanda_market_data(ctx)


@hookimpl
def ffe_brokers() -> Mapping[str, Factory]:
    return {"oanda": create_broker}


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    return {"oanda": create_market_data}
