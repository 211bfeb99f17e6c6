from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

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


from ffe_adapters.market_data.coingecko.config import CoinGeckoOptions  # noqa: E402
from ffe_adapters.market_data.coingecko.data import CoinGeckoSource, plan_request  # noqa: E402


def source(api: Any, clock: ManualClock, **extra: object) -> CoinGeckoSource:
    options = CoinGeckoOptions.model_validate({"api_key": "demo-key", **FAST, **extra})
    return CoinGeckoSource(options, clock=clock, transport=api.transport)


async def test_half_hour_candles_resample_to_closed_hourly_bars(api: Any, clock: ManualClock):
    api.add("/api/v3/coins/bitcoin/ohlc", load("ohlc_days_1.json"))
    opts = {"base_url": "https://api.coingecko.com/api/v3"}
    bars = await source(api, clock, **opts).get_bars(instrument("BTC-USD"), "1h", limit=10)
    # 8 half-hour candles closing 16:00..19:30 open 15:30..19:00 -> full hours 16,17,18
    assert [b.ts.hour for b in bars] == [16, 17, 18]
    raw = load("ohlc_days_1.json")
    assert bars[0].open == raw[1][1] and bars[0].close == raw[2][4]
    assert bars[0].high == max(raw[1][2], raw[2][2])
    request = api.requests[0]
    assert request.url.params["vs_currency"] == "usd"
    assert request.url.params["days"] == "1"
    assert request.headers["x-cg-demo-api-key"] == "demo-key"


def test_plan_picks_native_candles_that_divide_the_interval():
    assert plan_request(3600, 10) == (1, 1800)
    assert plan_request(14400, 20) == (7, 14400)
    assert plan_request(86400, 20) == (30, 14400)
    with pytest.raises(MarketDataError):
        plan_request(300, 10)


async def test_429_with_retry_after_is_honoured_then_succeeds(api: Any, clock: ManualClock):
    api.add(
        "/coins/bitcoin/ohlc", load("rate_limited.json"), status=429, headers={"Retry-After": "0.2"}
    )
    api.add("/coins/bitcoin/ohlc", load("ohlc_days_1.json"))
    opts = {"base_url": "https://fake", "retry_max_wait_seconds": 5}
    started = datetime.now(UTC)
    bars = await source(api, clock, **opts).get_bars(instrument("BTC-USD"), "1h", limit=10)
    waited = (datetime.now(UTC) - started).total_seconds()
    assert len(bars) == 3 and len(api.requests) == 2
    assert waited >= 0.2


async def test_persistent_429_raises_rate_limited_with_message(api: Any, clock: ManualClock):
    api.add(
        "/coins/bitcoin/ohlc", load("rate_limited.json"), status=429, headers={"Retry-After": "0"}
    )
    src = source(api, clock, base_url="https://fake", retry_attempts=2)
    with pytest.raises(RateLimited, match="exceeded the Rate Limit") as err:
        await src.get_bars(instrument("BTC-USD"), "1h")
    assert err.value.retry_after == 0
    assert len(api.requests) == 2


async def test_unknown_coin_and_non_crypto_are_market_data_errors(api: Any, clock: ManualClock):
    api.add("/coins/bitcoin/ohlc", load("coin_not_found.json"), status=404)
    src = source(api, clock, base_url="https://fake")
    with pytest.raises(MarketDataError, match="coin not found"):
        await src.get_bars(instrument("BTC-USD"), "1h")
    with pytest.raises(MarketDataError, match="not a crypto"):
        await src.get_bars(instrument("AAPL"), "1h")


async def test_malformed_candle_names_its_row(api: Any, clock: ManualClock):
    api.add("/coins/bitcoin/ohlc", load("ohlc_malformed.json"))
    with pytest.raises(MarketDataError, match=r"row 1 open: not a number"):
        await source(api, clock, base_url="https://fake").get_bars(instrument("BTC-USD"), "1h")


async def test_5xx_is_retried_then_reported(api: Any, clock: ManualClock):
    api.add("/coins/bitcoin/ohlc", text="<html>bad gateway</html>", status=502)
    with pytest.raises(MarketDataError, match="HTTP 502"):
        await source(api, clock, base_url="https://fake").get_bars(instrument("BTC-USD"), "1h")
    assert len(api.requests) == 3


async def test_quote_from_simple_price(api: Any, clock: ManualClock):
    api.add("/simple/price", load("simple_price.json"))
    quote = await source(api, clock, base_url="https://fake").get_quote(instrument("BTC-USD"))
    assert quote.bid == quote.ask
    assert float(quote.bid) == pytest.approx(67187.3358936566)
    assert quote.ts == datetime.fromtimestamp(1711356300, UTC)
    assert api.requests[0].url.params["ids"] == "bitcoin"
