from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ffe_adapters.market_data.synthetic.config import SyntheticOptions
from ffe_adapters.market_data.synthetic.data import SyntheticSource
from ffe_core.config import DEFAULT_INSTRUMENTS
from ffe_core.ports.clock import ManualClock
from ffe_core.services.bar_quality import normalise_bars

BTC, EUR = DEFAULT_INSTRUMENTS[0], DEFAULT_INSTRUMENTS[2]
NOW = datetime(2024, 3, 6, 12, 30, tzinfo=UTC)


async def test_same_seed_same_bars_other_seed_other_bars():
    a = await SyntheticSource(SyntheticOptions(seed=7), clock=ManualClock(NOW)).get_bars(BTC, "1h")
    b = await SyntheticSource(SyntheticOptions(seed=7), clock=ManualClock(NOW)).get_bars(BTC, "1h")
    c = await SyntheticSource(SyntheticOptions(seed=8), clock=ManualClock(NOW)).get_bars(BTC, "1h")
    assert a == b
    assert [x.close for x in a] != [x.close for x in c]


async def test_bars_end_at_last_closed_interval_and_are_clean():
    bars = await SyntheticSource(SyntheticOptions(), clock=ManualClock(NOW)).get_bars(
        EUR, "15m", limit=500
    )
    assert bars[-1].ts == NOW - timedelta(minutes=15)
    assert 0.8 < bars[-1].close < 1.4
    _, report = normalise_bars(bars, 900)
    assert report.clean and report.returned == 500
