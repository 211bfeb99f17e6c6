"""Build OANDA adapters from an AdapterContext; the SDK client is created here only."""

from __future__ import annotations

from oandapyV20 import API

from ffe_adapters.brokers.oanda.client import OandaClient
from ffe_adapters.brokers.oanda.config import OandaOptions
from ffe_adapters.brokers.oanda.data import OandaMarketData
from ffe_adapters.brokers.oanda.execution import OandaBroker
from ffe_adapters.hookspecs import AdapterContext
from ffe_core.domain.errors import ConfigError


def make_client(options: OandaOptions) -> OandaClient:
    """An API client for the configured environment (whether a live one may trade is the
    container's decision: see ``OandaBroker.venue``)."""
    if options.access_token is None:
        raise ConfigError("adapters.oanda.access_token is required")
    api = API(
        access_token=options.access_token.get_secret_value(),
        environment=options.sdk_environment(),
        request_params={"timeout": options.timeout_seconds},
    )
    return OandaClient(api, account_id=options.account_id, timeout=options.timeout_seconds)


def make_oanda_broker(ctx: AdapterContext) -> OandaBroker:
    options = ctx.parse_options(OandaOptions)
    if not options.account_id:
        raise ConfigError("adapters.oanda.account_id is required for trading")
    client = make_client(options)
    return OandaBroker(client, options, ctx.core)


def make_oanda_market_data(ctx: AdapterContext) -> OandaMarketData:
    options = ctx.parse_options(OandaOptions)
    return OandaMarketData(make_client(options), options)
