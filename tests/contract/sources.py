"""The market data sources the contract runs, each built by its registered factory from options,
the REST and SDK ones pointed (``base_url``) at a scripted server answering documented bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import load_registry
from ffe_core.config import Settings
from ffe_core.domain.instruments import Instrument
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.market_data import MarketDataSource
from tests.contract.scripted_server import ScriptedServer, Seen, documented

FAST_HTTP = {"retry_max_wait_seconds": 0.05, "requests_per_minute": 6000, "retry_attempts": 3}
FAST_SDK = {
    "timeout_seconds": 5,
    "retries": 2,
    "retry_backoff_seconds": 0,
    "max_retry_wait_seconds": 0,
}

SOURCES = (
    "synthetic",
    "bundled",
    "files",
    "polygon",
    "twelvedata",
    "alphavantage",
    "coingecko",
    "coinbase",
    "oanda",
)
"""Every built-in source (the example plugin supplies none; test_every_adapter_is_held.py)."""
FILES = Path(__file__).parents[1] / "adapters" / "market_data" / "files" / "data"


@dataclass
class Source:
    name: str
    source: MarketDataSource
    instrument: Instrument
    interval: str
    clock: ManualClock
    server: ScriptedServer | None


def instrument(symbol: str) -> Instrument:
    found = Settings().instrument(symbol)
    assert found is not None, symbol
    return found


def build(name: str, options: dict[str, Any], clock: ManualClock) -> MarketDataSource:
    factory = load_registry(entry_points=False).factory("market_data", name)
    source: MarketDataSource = factory(AdapterContext(name=name, options=options, clock=clock))
    return source


def coinbase_candles(seen: Seen) -> dict[str, Any]:
    """Coinbase's public candles for the window asked for (at most 350 of them, newest first),
    each row shaped as the documented example's."""
    row = documented("coinbase", "public_candles")["candles"][0]
    step = 3600
    first, last = int(seen.query["start"][0]), int(seen.query["end"][0])
    limit = int(seen.query.get("limit", ["350"])[0])
    if limit > 350:
        return {"candles": []}  # never reached: the case asserts every limit asked for
    starts = [t for t in range(first - first % step, last + 1, step) if t >= first][-limit:]
    return {"candles": [dict(row, start=str(t)) for t in reversed(starts)]}


@asynccontextmanager
async def source(name: str) -> AsyncIterator[Source]:
    if name in ("synthetic", "bundled"):
        clock = ManualClock(datetime(2024, 1, 2, 12, 0, 2, tzinfo=UTC))
        built = build(name, {}, clock)
        yield Source(name, built, instrument("BTC-USD"), "1h", clock, None)
        await built.close()
        return
    if name == "files":  # freqtrade's JSON candle layout (see the data folder's README)
        clock = ManualClock(datetime(2024, 1, 2, tzinfo=UTC))
        built = build(name, {"paths": {"BTC-USD": str(FILES / "BTC_USDT-1h.json")}}, clock)
        yield Source(name, built, instrument("BTC-USD"), "1h", clock, None)
        await built.close()
        return
    with ScriptedServer() as server:
        if name == "polygon":
            clock = ManualClock(datetime(2005, 4, 10, tzinfo=UTC))
            server.reply(
                "/v2/aggs/ticker/AAPL/range/1/day/", documented("polygon", "aggs_aapl_1_day")
            )
            server.reply("/v2/last/nbbo/AAPL", documented("polygon", "last_nbbo_aapl"))
            options = {"base_url": server.url, "api_key": "pg-key", **FAST_HTTP}
            inst, interval = instrument("AAPL"), "1d"
        elif name == "twelvedata":
            clock = ManualClock(datetime(2024, 3, 6, 12, 0, tzinfo=UTC))
            server.reply("/time_series", documented("twelvedata", "time_series_eurusd_1h"))
            server.reply("/quote", documented("twelvedata", "quote_aapl"))
            options = {"base_url": server.url, "api_key": "td-key", **FAST_HTTP}
            inst, interval = instrument("EUR-USD"), "1h"
        elif name == "alphavantage":  # one path; the function asked for picks the body
            clock = ManualClock(datetime(2024, 3, 6, 12, 0, tzinfo=UTC))
            bodies = {"TIME_SERIES_DAILY": "time_series_daily", "GLOBAL_QUOTE": "global_quote"}
            server.reply(
                "/query",
                lambda seen: documented("alphavantage", bodies[seen.query["function"][0]]),
            )
            options = {"base_url": server.url, "api_key": "av-key", **FAST_HTTP}
            inst, interval = instrument("AAPL"), "1d"
        elif name == "coingecko":
            clock = ManualClock(datetime(2024, 3, 6, 12, 0, tzinfo=UTC))
            server.reply("/api/v3/coins/bitcoin/ohlc", documented("coingecko", "ohlc_days_1"))
            server.reply("/api/v3/simple/price", documented("coingecko", "simple_price"))
            options = {"base_url": f"{server.url}/api/v3", "api_key": "cg-key", **FAST_HTTP}
            inst, interval = instrument("BTC-USD"), "1h"
        elif name == "coinbase":
            clock = ManualClock(datetime(2026, 1, 5, 14, 0, 30, tzinfo=UTC))
            server.reply("/api/v3/brokerage/market/products/BTC-USD/candles", coinbase_candles)
            server.reply(
                "/api/v3/brokerage/market/product_book",
                documented("coinbase", "public_product_book"),
            )
            options = {"base_url": server.url, **FAST_SDK}
            inst, interval = instrument("BTC-USD"), "1h"
        else:
            clock = ManualClock(datetime(2016, 10, 18, tzinfo=UTC))
            account = "101-004-1435156-001"
            server.reply("/v3/instruments/EUR_USD/candles", documented("oanda", "candles"))
            server.reply(f"/v3/accounts/{account}/pricing", documented("oanda", "pricing"))
            options = {
                "access_token": "t",
                "account_id": account,
                "base_url": server.url,
                **FAST_SDK,
            }
            inst, interval = instrument("EUR-USD"), "5m"
        built = build(name, options, clock)
        try:
            yield Source(name, built, inst, interval, clock, server)
        finally:
            await built.close()
