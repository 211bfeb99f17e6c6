"""Built-in plugin registering the ``oanda`` broker and market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import Factory, hookimpl


@hookimpl
def ffe_brokers() -> Mapping[str, Factory]:
    from ffe_adapters.brokers.oanda.factories import make_oanda_broker

    return {"oanda": make_oanda_broker}


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    from ffe_adapters.brokers.oanda.factories import make_oanda_market_data

    return {"oanda": make_oanda_market_data}
