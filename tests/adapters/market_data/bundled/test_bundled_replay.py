from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources

from ffe_adapters.market_data.bundled.config import BundledOptions
from ffe_adapters.market_data.bundled.data import SYMBOLS, BundledSource
from ffe_core.config import DEFAULT_INSTRUMENTS
from ffe_core.ports.clock import ManualClock
from ffe_core.services.bar_quality import normalise_bars

NOW = datetime(2026, 5, 4, 10, 17, 3, tzinfo=UTC)


def test_shipped_samples_are_small():
    package = resources.files("ffe_adapters.market_data.bundled")
    sizes = [len(package.joinpath(f"{s}_1h.csv.gz").read_bytes()) for s in SYMBOLS]
    assert sum(sizes) < 300_000


async def test_newest_bar_is_last_closed_interval_and_new_bars_arrive():
    clock = ManualClock(NOW)
    source = BundledSource(BundledOptions(seconds_per_bar=5), clock=clock)
    for inst in DEFAULT_INSTRUMENTS:
        bars = await source.get_bars(inst, "1h", limit=200)
        assert len(bars) == 200
        assert bars[-1].ts == datetime(2026, 5, 4, 9, tzinfo=UTC)
        _, report = normalise_bars(bars, 3600)
        assert report.clean
    btc = DEFAULT_INSTRUMENTS[0]
    before = await source.get_bars(btc, "1h", limit=50)
    clock.advance(5)
    after = await source.get_bars(btc, "1h", limit=50)
    assert after[-1].ts == before[-1].ts  # same real hour ...
    assert [b.close for b in after[:-1]] == [b.close for b in before[1:]]  # ... one bar later
    assert after[-1].open == before[-1].close


async def test_quote_tracks_forming_bar_with_spread():
    clock = ManualClock(NOW)
    source = BundledSource(BundledOptions(spread_bps=4), clock=clock)
    eur = DEFAULT_INSTRUMENTS[2]
    last = (await source.get_bars(eur, "1h", limit=1))[-1]
    quote = await source.get_quote(eur)
    assert quote.ts == NOW
    assert quote.bid < quote.ask
    assert abs(float(quote.mid) - last.close) / last.close < 0.02


async def test_daily_bars_and_history_before_now():
    source = BundledSource(BundledOptions(), clock=ManualClock(NOW))
    aapl = DEFAULT_INSTRUMENTS[3]
    daily = await source.get_bars(aapl, "1d", limit=20)
    assert len(daily) == 20 and daily[-1].ts == datetime(2026, 5, 3, tzinfo=UTC)
    end = NOW - timedelta(days=3)
    older = await source.get_bars(aapl, "1h", limit=10, end=end)
    assert older[-1].ts <= end


async def test_replay_declares_its_pace_and_prices_any_past_moment_as_it_quoted():
    from ffe_core.ports.market_data import ReplayPace

    clock = ManualClock(NOW)
    source = BundledSource(BundledOptions(seconds_per_bar=5), clock=clock)
    assert isinstance(source, ReplayPace)
    assert source.bar_seconds("1h") == 5 and source.bar_seconds("4h") == 20
    btc = DEFAULT_INSTRUMENTS[0]
    then = clock.now()
    quote = await source.get_quote(btc)
    clock.advance(12.5)  # two and a half bars later
    past = await source.price_at(btc, then)
    assert past is not None and quote.bid <= Decimal(str(past)) <= quote.ask
    assert await source.price_at(btc, clock.now()) != await source.price_at(btc, then)
