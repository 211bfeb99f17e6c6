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


from ffe_adapters.market_data.polygon.config import PolygonOptions  # noqa: E402
from ffe_adapters.market_data.polygon.data import PolygonSource  # noqa: E402

AGGS = "/v2/aggs/ticker/AAPL/range/1/day/"


def source(api: Any, clock: ManualClock, **extra: object) -> PolygonSource:
    options = PolygonOptions.model_validate(
        {"api_key": "pg-key", "base_url": "https://fake", **FAST, **extra}
    )
    return PolygonSource(options, clock=clock, transport=api.transport)


async def test_aggregates_become_bars(api: Any, clock: ManualClock):
    api.add(AGGS, load("aggs_aapl_1_day.json"))
    bars = await source(api, clock).get_bars(instrument("AAPL"), "1d", limit=2)
    assert [b.ts for b in bars] == [
        datetime.fromtimestamp(1673326800, UTC),
        datetime.fromtimestamp(1673413200, UTC),
    ]
    assert bars[-1].close == pytest.approx(133.49)
    assert api.requests[0].headers["Authorization"] == "Bearer pg-key"
    assert api.requests[0].url.params["sort"] == "asc"


async def test_symbol_mapping_for_fx_and_crypto(api: Any, clock: ManualClock):
    src = source(api, clock)
    assert src.ticker(instrument("EUR-USD")) == "C:EURUSD"
    assert src.ticker(instrument("BTC-USD")) == "X:BTCUSD"
    assert src.ticker(instrument("AAPL")) == "AAPL"


async def test_no_results_is_an_empty_answer(api: Any, clock: ManualClock):
    api.add("/v2/aggs/ticker/X:BTCUSD/", load("aggs_no_results.json"))
    assert await source(api, clock).get_bars(instrument("BTC-USD"), "1h") == []


async def test_429_retries_then_rate_limited(api: Any, clock: ManualClock):
    api.add(AGGS, load("rate_limited.json"), status=429, headers={"Retry-After": "0"})
    with pytest.raises(RateLimited, match="maximum requests per minute"):
        await source(api, clock, retry_attempts=3).get_bars(instrument("AAPL"), "1d")
    assert len(api.requests) == 3


@pytest.mark.parametrize(
    ("name", "status", "pattern"),
    [
        ("unknown_api_key.json", 401, "credentials refused.*Unknown API Key"),
        ("not_authorized.json", 403, "not authorized: You are not entitled"),
    ],
)
async def test_auth_errors(api: Any, clock: ManualClock, name: str, status: int, pattern: str):
    api.add(AGGS, load(name), status=status)
    with pytest.raises(MarketDataError, match=pattern):
        await source(api, clock).get_bars(instrument("AAPL"), "1d")
    assert len(api.requests) == 1


async def test_malformed_result_names_its_index(api: Any, clock: ManualClock):
    body = load("aggs_aapl_1_day.json")
    del body["results"][2]["t"]
    api.add(AGGS, body)
    with pytest.raises(MarketDataError, match=r"results\[2\]: missing 't'"):
        await source(api, clock).get_bars(instrument("AAPL"), "1d")


async def test_quotes_per_asset_class(api: Any, clock: ManualClock):
    api.add("/v2/last/nbbo/AAPL", load("last_nbbo_aapl.json"))
    api.add("/v1/last_quote/currencies/EUR/USD", load("last_quote_eurusd.json"))
    api.add("/v1/last/crypto/BTC/USD", load("last_trade_btcusd.json"))
    src = source(api, clock)
    stock = await src.get_quote(instrument("AAPL"))
    assert (str(stock.bid), str(stock.ask)) == ("127.96", "127.98")
    fx = await src.get_quote(instrument("EUR-USD"))
    assert (str(fx.bid), str(fx.ask)) == ("0.73122", "0.73124")
    btc = await src.get_quote(instrument("BTC-USD"))
    assert btc.bid == btc.ask
    assert btc.ts == datetime.fromtimestamp(1605560885.027, UTC)
