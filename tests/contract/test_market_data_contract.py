"""The MarketDataSource port's contract, run by every built-in source, plus the documented vendor
behaviours each REST / SDK source must honour (pagination, errors inside HTTP 200 bodies,
per-request maxima), each against the vendor's own bodies (``responses/<vendor>/SOURCES.md``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.intervals import interval_seconds
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.market_data import MarketDataSource
from tests.contract.scripted_server import ScriptedServer, documented
from tests.contract.sources import FAST_HTTP, FAST_SDK, SOURCES, Source, build, instrument, source


@pytest.fixture(params=SOURCES)
async def on(request: pytest.FixtureRequest) -> AsyncIterator[Source]:
    async with source(request.param) as built:
        yield built


async def test_declares_the_port(on: Source) -> None:
    assert isinstance(on.source, MarketDataSource)
    assert on.source.name == on.name


async def test_bars_are_closed_ascending_utc_and_at_most_the_limit(on: Source) -> None:
    bars = await on.source.get_bars(on.instrument, on.interval, limit=3)
    assert 0 < len(bars) <= 3
    assert [b.ts for b in bars] == sorted({b.ts for b in bars})
    step = timedelta(seconds=interval_seconds(on.interval))
    now = on.clock.now()
    for bar in bars:
        assert bar.ts.utcoffset() == timedelta(0)
        assert bar.ts + step <= now, "a bar still forming was returned"
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high


async def test_a_quote_is_for_the_instrument_and_not_crossed(on: Source) -> None:
    quote = await on.source.get_quote(on.instrument)
    assert quote.symbol == on.instrument.symbol
    assert 0 < quote.bid <= quote.ask


# --- Polygon: aggregates truncated with next_url -------------------------------------------


async def test_polygon_follows_next_url_and_keeps_the_newest_bars() -> None:
    with ScriptedServer() as server:
        server.reply("/v2/aggs/ticker/AAPL/range/1/day/", documented("polygon", "aggs_page_1"))
        server.reply("/v2/aggs/ticker/AAPL/range/1/day/", documented("polygon", "aggs_page_2"))
        clock = ManualClock(datetime(2005, 4, 10, tzinfo=UTC))
        polygon = build("polygon", {"base_url": server.url, "api_key": "k", **FAST_HTTP}, clock)
        bars = await polygon.get_bars(instrument("AAPL"), "1d", limit=5)
        await polygon.close()
    whole = documented("polygon", "aggs_aapl_1_day")["results"]
    assert [int(b.ts.timestamp() * 1000) for b in bars] == [r["t"] for r in whole]
    first, second = server.requests_to("/v2/aggs/")
    assert "cursor" not in first.query
    assert second.path == "/v2/aggs/ticker/AAPL/range/1/day/1112400000000/1112659200000"
    assert second.query["cursor"] == [
        documented("polygon", "aggs_page_1")["next_url"].split("cursor=")[1]
    ]


# --- Twelve Data: errors inside HTTP 200 bodies ----------------------------------------------


def twelvedata(server: ScriptedServer) -> MarketDataSource:
    clock = ManualClock(datetime(2024, 3, 6, 12, 0, tzinfo=UTC))
    return build("twelvedata", {"base_url": server.url, "api_key": "k", **FAST_HTTP}, clock)


async def test_twelvedata_retries_a_server_error_inside_a_200_body() -> None:
    with ScriptedServer() as server:
        server.reply("/time_series", documented("twelvedata", "error_internal_in_200"))
        server.reply("/time_series", documented("twelvedata", "time_series_eurusd_1h"))
        bars = await twelvedata(server).get_bars(instrument("EUR-USD"), "1h", limit=5)
    assert len(bars) == 3
    assert len(server.requests_to("/time_series")) == 2


async def test_twelvedata_persistent_server_error_carries_the_vendor_message() -> None:
    with ScriptedServer() as server:
        server.reply("/time_series", documented("twelvedata", "error_internal_in_200"))
        with pytest.raises(MarketDataError, match="500: error message"):
            await twelvedata(server).get_bars(instrument("EUR-USD"), "1h")
    assert len(server.requests_to("/time_series")) == FAST_HTTP["retry_attempts"]


async def test_twelvedata_client_error_inside_a_200_body_is_not_retried() -> None:
    with ScriptedServer() as server:
        server.reply("/time_series", documented("twelvedata", "error_bad_request_in_200"))
        with pytest.raises(MarketDataError, match="error message"):
            await twelvedata(server).get_bars(instrument("EUR-USD"), "1h")
    assert len(server.requests_to("/time_series")) == 1


# --- Coinbase: at most 350 candles per request; errors that say what failed -----------------


async def test_coinbase_asks_at_most_350_candles_and_pages_longer_histories() -> None:
    async with source("coinbase") as cb:
        assert cb.server is not None
        bars = await cb.source.get_bars(cb.instrument, "1h", limit=800)
        asked = cb.server.requests_to("/api/v3/brokerage/market/products/BTC-USD/candles")
    assert len(bars) == 800
    assert [b.ts for b in bars] == sorted({b.ts for b in bars})
    assert bars[-1].ts == datetime(2026, 1, 5, 13, tzinfo=UTC)  # the newest closed hour
    assert bars[0].ts == bars[-1].ts - timedelta(hours=799)  # no gap where pages meet
    assert len(asked) == 3
    assert all(int(r.query["limit"][0]) <= 350 for r in asked)


async def test_coinbase_market_data_errors_say_which_call_failed() -> None:
    with ScriptedServer() as server:
        server.reply(
            "/api/v3/brokerage/market/products/BTC-USD/candles",
            documented("coinbase", "error_invalid_argument"),
            status=400,
        )
        clock = ManualClock(datetime(2026, 1, 5, 14, tzinfo=UTC))
        coinbase = build("coinbase", {"base_url": server.url, **FAST_SDK}, clock)
        with pytest.raises(MarketDataError) as caught:
            await coinbase.get_bars(instrument("BTC-USD"), "1h")
        await coinbase.close()
    text = str(caught.value)
    assert "rejected the order" not in text
    assert "get_public_candles" in text and "INVALID_ARGUMENT" in text and "350" in text
