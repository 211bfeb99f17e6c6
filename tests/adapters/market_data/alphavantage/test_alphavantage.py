from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ffe_adapters.market_data.alphavantage.config import AlphaVantageOptions
from ffe_adapters.market_data.alphavantage.data import AlphaVantageSource
from ffe_core.config import DEFAULT_INSTRUMENTS
from ffe_core.domain.errors import MarketDataError, RateLimited
from ffe_core.domain.instruments import Instrument
from ffe_core.ports.clock import ManualClock

FAST = {"retry_max_wait_seconds": 0.05, "requests_per_minute": 6000}
RESPONSES = Path(__file__).parent / "responses"


def load(name: str) -> Any:
    return json.loads((RESPONSES / name).read_text())


def instrument(symbol: str) -> Instrument:
    return next(i for i in DEFAULT_INSTRUMENTS if i.symbol == symbol)


def source(api: Any, clock: ManualClock, **extra: object) -> AlphaVantageSource:
    options = AlphaVantageOptions.model_validate({"api_key": "test-key", **FAST, **extra})
    return AlphaVantageSource(options, clock=clock, transport=api.transport)


async def test_daily_equity_bars_are_ascending_utc_midnights(api: Any, clock: ManualClock):
    api.add("/query", load("time_series_daily.json"))
    bars = await source(api, clock).get_bars(instrument("AAPL"), "1d", limit=10)
    assert [b.ts for b in bars] == [
        datetime(2024, 2, 29, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
        datetime(2024, 3, 4, tzinfo=UTC),
    ]
    assert bars[-1].close == pytest.approx(186.29)
    assert bars[-1].volume == 4030120
    params = api.requests[0].url.params
    assert params["function"] == "TIME_SERIES_DAILY"
    assert params["symbol"] == "AAPL"
    assert params["apikey"] == "test-key"


async def test_intraday_eastern_timestamps_become_utc(api: Any, clock: ManualClock):
    api.add("/query", load("time_series_intraday_60min.json"))
    bars = await source(api, clock).get_bars(instrument("AAPL"), "1h", limit=2)
    # 2024-03-04 19:00 US/Eastern (EST, UTC-5) is 2024-03-05 00:00 UTC
    assert [b.ts for b in bars] == [
        datetime(2024, 3, 4, 23, tzinfo=UTC),
        datetime(2024, 3, 5, 0, tzinfo=UTC),
    ]
    assert api.requests[0].url.params["interval"] == "60min"


async def test_fx_and_crypto_daily_use_their_functions(api: Any, clock: ManualClock, make_api: Any):
    api.add("/query", load("fx_daily.json"))
    fx = await source(api, clock).get_bars(instrument("EUR-USD"), "1d", limit=5)
    assert fx[-1].close == pytest.approx(1.0858)
    assert fx[-1].volume == 0
    assert api.requests[-1].url.params["function"] == "FX_DAILY"

    crypto_api = make_api().add("/query", load("digital_currency_daily.json"))
    btc = await source(crypto_api, clock).get_bars(instrument("BTC-USD"), "1d", limit=5)
    assert btc[-1].close == pytest.approx(68245.71)
    assert crypto_api.requests[-1].url.params["market"] == "USD"


async def test_bars_still_forming_at_clock_time_are_dropped(api: Any):
    api.add("/query", load("time_series_daily.json"))
    during_march_4 = ManualClock(datetime(2024, 3, 4, 15, tzinfo=UTC))
    bars = await source(api, during_march_4).get_bars(instrument("AAPL"), "1d", limit=10)
    assert bars[-1].ts == datetime(2024, 3, 1, tzinfo=UTC)


async def test_error_message_body_is_a_market_data_error(api: Any, clock: ManualClock):
    api.add("/query", load("error_message.json"))
    with pytest.raises(MarketDataError, match="Invalid API call"):
        await source(api, clock).get_bars(instrument("AAPL"), "1d")
    assert len(api.requests) == 1  # not retried


async def test_note_body_is_rate_limited_and_retried(api: Any, clock: ManualClock):
    api.add("/query", load("note_rate_limit.json"))
    api.add("/query", load("time_series_daily.json"))
    bars = await source(api, clock).get_bars(instrument("AAPL"), "1d")
    assert len(bars) == 3
    assert len(api.requests) == 2


async def test_daily_quota_information_is_rate_limited_after_retries(api: Any, clock: ManualClock):
    api.add("/query", load("information_daily_limit.json"))
    with pytest.raises(RateLimited, match="25 requests per day"):
        await source(api, clock, retry_attempts=2).get_bars(instrument("AAPL"), "1d")
    assert len(api.requests) == 2


async def test_premium_information_is_not_retried(api: Any, clock: ManualClock):
    api.add("/query", load("information_premium.json"))
    with pytest.raises(MarketDataError, match="premium endpoint"):
        await source(api, clock).get_bars(instrument("EUR-USD"), "1h")
    assert len(api.requests) == 1


async def test_malformed_row_names_the_row(api: Any, clock: ManualClock):
    body = load("time_series_daily.json")
    body["Time Series (Daily)"]["2024-03-01"]["2. high"] = "not-a-number"
    api.add("/query", body)
    with pytest.raises(MarketDataError, match=r"2024-03-01 high: not a number"):
        await source(api, clock).get_bars(instrument("AAPL"), "1d")


async def test_unsupported_interval_is_refused_before_any_call(api: Any, clock: ManualClock):
    with pytest.raises(MarketDataError, match="not offered"):
        await source(api, clock).get_bars(instrument("AAPL"), "4h")
    assert api.requests == []


async def test_equity_and_fx_quotes(api: Any, clock: ManualClock, make_api: Any):
    api.add("/query", load("global_quote.json"))
    quote = await source(api, clock).get_quote(instrument("AAPL"))
    assert str(quote.bid) == "186.29"
    assert quote.ts == datetime(2024, 3, 4, tzinfo=UTC)

    fx_api = make_api().add("/query", load("currency_exchange_rate.json"))
    fx = await source(fx_api, clock).get_quote(instrument("EUR-USD"))
    assert (str(fx.bid), str(fx.ask)) == ("1.08576", "1.08584")
    assert fx.ts == datetime(2024, 3, 4, 21, 55, 1, tzinfo=UTC)
