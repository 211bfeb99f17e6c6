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


from ffe_adapters.market_data.twelvedata.config import TwelveDataOptions  # noqa: E402
from ffe_adapters.market_data.twelvedata.data import TwelveDataSource  # noqa: E402


def source(api: Any, clock: ManualClock, **extra: object) -> TwelveDataSource:
    options = TwelveDataOptions.model_validate(
        {"api_key": "td-key", "base_url": "https://fake", **FAST, **extra}
    )
    return TwelveDataSource(options, clock=clock, transport=api.transport)


async def test_time_series_newest_first_becomes_ascending(api: Any, clock: ManualClock):
    api.add("/time_series", load("time_series_eurusd_1h.json"))
    bars = await source(api, clock).get_bars(instrument("EUR-USD"), "1h", limit=5)
    assert [b.ts for b in bars] == [datetime(2024, 3, 4, h, tzinfo=UTC) for h in (10, 11, 12)]
    params = api.requests[0].url.params
    assert (params["symbol"], params["interval"], params["timezone"]) == ("EUR/USD", "1h", "UTC")
    assert api.requests[0].headers["Authorization"] == "apikey td-key"


async def test_credit_exhaustion_in_a_200_body_is_rate_limited(api: Any, clock: ManualClock):
    api.add("/time_series", load("rate_limited.json"))
    api.add("/time_series", load("time_series_eurusd_1h.json"))
    bars = await source(api, clock).get_bars(instrument("EUR-USD"), "1h")
    assert len(bars) == 3 and len(api.requests) == 2


async def test_http_429_exhausts_to_rate_limited(api: Any, clock: ManualClock):
    api.add("/time_series", load("rate_limited.json"), status=429)
    with pytest.raises(RateLimited, match="run out of API credits"):
        await source(api, clock, retry_attempts=2).get_bars(instrument("EUR-USD"), "1h")


@pytest.mark.parametrize(
    ("name", "pattern"),
    [("symbol_not_found.json", "not found: NOPE"), ("invalid_api_key.json", "credentials")],
)
async def test_error_bodies_are_market_data_errors(
    api: Any, clock: ManualClock, name: str, pattern: str
):
    api.add("/time_series", load(name), status=200)
    with pytest.raises(MarketDataError, match=pattern):
        await source(api, clock).get_bars(instrument("EUR-USD"), "1h")
    assert len(api.requests) == 1


async def test_malformed_value_names_its_index(api: Any, clock: ManualClock):
    body = load("time_series_eurusd_1h.json")
    body["values"][1]["datetime"] = "yesterday"
    api.add("/time_series", body)
    with pytest.raises(MarketDataError, match=r"values\[1\]: bad datetime"):
        await source(api, clock).get_bars(instrument("EUR-USD"), "1h")


async def test_quote_uses_last_price(api: Any, clock: ManualClock):
    api.add("/quote", load("quote_aapl.json"))
    quote = await source(api, clock).get_quote(instrument("AAPL"))
    assert str(quote.bid) == str(quote.ask) == "175.10001"
    assert quote.ts == datetime.fromtimestamp(1709562600, UTC)
