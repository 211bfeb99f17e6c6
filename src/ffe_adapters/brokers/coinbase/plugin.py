"""Built-in plugin registering the ``coinbase`` broker and market data source."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import Factory, hookimpl


@hookimpl
def ffe_brokers() -> Mapping[str, Factory]:
    from ffe_adapters.brokers.coinbase.factories import make_coinbase_broker

    return {"coinbase": make_coinbase_broker}


@hookimpl
def ffe_market_data_sources() -> Mapping[str, Factory]:
    from ffe_adapters.brokers.coinbase.factories import make_coinbase_market_data

    return {"coinbase": make_coinbase_market_data}
