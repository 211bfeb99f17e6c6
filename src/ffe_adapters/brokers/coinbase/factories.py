"""Build Coinbase adapters from an AdapterContext; the SDK client is created here only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from coinbase.rest import RESTClient
from requests.adapters import HTTPAdapter

from ffe_adapters.brokers.coinbase.client import CoinbaseClient
from ffe_adapters.brokers.coinbase.config import CoinbaseOptions
from ffe_adapters.brokers.coinbase.data import CoinbaseMarketData
from ffe_adapters.brokers.coinbase.execution import CoinbaseBroker
from ffe_adapters.hookspecs import AdapterContext
from ffe_core.domain.errors import ConfigError


class _PlainHttp(HTTPAdapter):
    """Sends what the SDK addresses as ``https://host`` over plain http (a local fake): the SDK
    builds every URL as ``https://{base_url}`` itself."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if request.url is not None and request.url.startswith("https://"):
            request.url = "http://" + request.url.removeprefix("https://")
        return super().send(request, *args, **kwargs)


def make_client(options: CoinbaseOptions, *, trading: bool) -> CoinbaseClient:
    """A client for trading (keys required; the environment's host) or for read-only data."""
    key, secret = options.api_key, options.api_secret
    if trading and (key is None or secret is None):
        raise ConfigError("adapters.coinbase.api_key and api_secret are required for trading")
    url = urlsplit(options.trading_url() if trading else options.data_url())
    rest = RESTClient(
        api_key=key.get_secret_value() if key else None,
        api_secret=secret.get_secret_value() if secret else None,
        base_url=url.netloc,
        timeout=int(max(options.timeout_seconds, 1)),
    )
    if url.scheme == "http":
        rest.session.mount(f"https://{url.netloc}", _PlainHttp())
    return CoinbaseClient(rest, timeout=options.timeout_seconds)


def make_coinbase_broker(ctx: AdapterContext) -> CoinbaseBroker:
    options = ctx.parse_options(CoinbaseOptions)
    return CoinbaseBroker(make_client(options, trading=True), options, ctx.core)


def make_coinbase_market_data(ctx: AdapterContext) -> CoinbaseMarketData:
    options = ctx.parse_options(CoinbaseOptions)
    return CoinbaseMarketData(make_client(options, trading=False), options, ctx.clock)
