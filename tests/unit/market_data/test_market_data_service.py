from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ffe_adapters.cache.memory import MemoryCache
from ffe_core.config import DEFAULT_INSTRUMENTS
from ffe_core.domain.errors import MarketDataError, RateLimited
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import ManualClock
from ffe_core.services.market_data import MarketDataService, bars_cache_key, spread_quote

NOW = datetime(2024, 3, 6, 12, 30, tzinfo=UTC)
BTC = DEFAULT_INSTRUMENTS[0]


class FakeSource:
    """Answers with fixed bars (or raises) and counts calls."""

    def __init__(self, name: str, bars: list[Bar] | None = None, error: Exception | None = None):
        self.name, self.bars, self.error, self.calls, self.closed = (
            name,
            bars or [],
            error,
            0,
            False,
        )
        self.cacheable = True

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        self.calls += 1
        if self.error:
            raise self.error
        return list(self.bars)

    async def get_quote(self, instrument: Instrument) -> Quote:
        self.calls += 1
        if self.error:
            raise self.error
        return Quote(symbol=instrument.symbol, ts=NOW, bid=Decimal("1"), ask=Decimal("2"))

    async def close(self) -> None:
        self.closed = True


def hourly(n: int) -> list[Bar]:
    start = NOW.replace(minute=0) - timedelta(hours=n)
    return [Bar(ts=start + timedelta(hours=i), open=10, high=11, low=9, close=10) for i in range(n)]


async def test_first_answer_wins_and_failures_are_reported():
    down = FakeSource("down", error=RateLimited("slow down", retry_after=3))
    empty = FakeSource("empty")
    good = FakeSource("good", hourly(5))
    service = MarketDataService([down, empty, good], clock=ManualClock(NOW))
    result = await service.fetch_bars(BTC, "1h", limit=3)
    assert result.source == "good"
    assert len(result.bars) == 3
    assert [(f.source, f.error) for f in result.failures] == [
        ("down", "RateLimited"),
        ("empty", "NoData"),
    ]
    assert "slow down" in str(result.failures[0])


async def test_all_failing_raises_with_every_reason():
    service = MarketDataService(
        [FakeSource("a", error=MarketDataError("boom")), FakeSource("b")], clock=ManualClock(NOW)
    )
    with pytest.raises(MarketDataError, match=r"a: MarketDataError: boom; b: NoData"):
        await service.fetch_bars(BTC, "1h")


async def test_quality_problems_are_reported_not_hidden():
    bars = hourly(6)
    messy = [bars[3], bars[0], bars[0], bars[1], bars[5]]
    service = MarketDataService([FakeSource("s", messy)], clock=ManualClock(NOW))
    result = await service.fetch_bars(BTC, "1h")
    assert [b.ts for b in result.bars] == [bars[i].ts for i in (0, 1, 3, 5)]
    report = result.report
    assert (report.duplicates_dropped, report.out_of_order, report.missing_bars) == (1, 1, 2)
    assert service.reports[("BTC-USD", "1h")] is report


async def test_bars_are_cached_until_a_new_interval_closes():
    source = FakeSource("s", hourly(4))
    clock = ManualClock(NOW)
    cache = MemoryCache()
    service = MarketDataService([source], cache, clock=clock)
    first = await service.fetch_bars(BTC, "1h", limit=4)
    second = await service.fetch_bars(BTC, "1h", limit=4)
    assert (first.from_cache, second.from_cache, source.calls) == (False, True, 1)
    assert second.bars == first.bars
    clock.advance(3600)
    third = await service.fetch_bars(BTC, "1h", limit=4)
    assert (third.from_cache, source.calls) == (False, 2)


async def test_quotes_expire_after_their_ttl():
    now = [0.0]
    cache = MemoryCache(now=lambda: now[0])
    source = FakeSource("s")
    service = MarketDataService([source], cache, quote_ttl_seconds=5, clock=ManualClock(NOW))
    await service.fetch_quote(BTC)
    assert (await service.fetch_quote(BTC)).from_cache
    now[0] = 6.0
    assert not (await service.fetch_quote(BTC)).from_cache
    assert source.calls == 2


async def test_uncacheable_sources_skip_the_cache():
    source = FakeSource("replay", hourly(3))
    source.cacheable = False
    cache = MemoryCache()
    service = MarketDataService([source], cache, clock=ManualClock(NOW))
    await service.fetch_bars(BTC, "1h")
    await service.fetch_bars(BTC, "1h")
    assert source.calls == 2 and len(cache) == 0


def test_cache_key_names_source_symbol_interval_and_closed_anchor():
    key = bars_cache_key("polygon", "AAPL", "1h", 200, None, NOW)
    assert key == "ffe:md:v1:bars:polygon:AAPL:1h:200:20240306T110000Z"


def test_spread_quote_rounds_outwards_to_the_tick():
    eur = DEFAULT_INSTRUMENTS[2]
    quote = spread_quote(eur, 1.085432, NOW, spread_bps=2)
    assert quote.bid == Decimal("1.08532") and quote.ask == Decimal("1.08555")
    assert quote.bid < Decimal("1.085432") < quote.ask
