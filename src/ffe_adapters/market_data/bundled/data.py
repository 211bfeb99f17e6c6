"""The ``bundled`` source: shipped hourly samples replayed as if they were live.

The replay position advances one bar every ``seconds_per_bar`` of clock time from ``anchor``;
the series loops (it was generated so its end meets its start). On every call the timestamps
are laid out so the newest available bar is the most recent interval closed before the clock's
now, so the data never looks stale; identify new bars by content or count, not by timestamp
alone, since within one real hour the newest timestamp stays the same while its bar changes.
Quotes are the forming bar's price, interpolated through the replay step, with a small spread.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from ffe_adapters.market_data.bundled.config import BundledOptions
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.intervals import floor_time, interval_seconds, last_closed_open
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.services.bar_quality import resample_bars
from ffe_core.services.market_data import spread_quote

NATIVE_SECONDS = 3600
SYMBOLS = ("BTC-USD", "ETH-USD", "EUR-USD", "AAPL")


@dataclass(frozen=True)
class Series:
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    volume: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.close)


def load_series(symbol: str) -> Series:
    """The shipped sample for ``symbol`` (timestamps are dropped: the replay assigns them)."""
    resource = resources.files(__package__ or __name__).joinpath(f"{symbol}_1h.csv.gz")
    try:
        text = gzip.decompress(resource.read_bytes()).decode()
    except (OSError, EOFError) as exc:
        raise MarketDataError(f"bundled: sample data for {symbol} is unreadable ({exc})") from None
    rows = list(csv.reader(io.StringIO(text)))[1:]
    columns = list(zip(*[[float(v) for v in row[1:6]] for row in rows], strict=True))
    return Series(*columns)


class BundledSource:
    """``MarketDataSource`` replaying the bundled samples on the clock."""

    name = "bundled"
    cacheable = False

    def __init__(self, options: BundledOptions, *, clock: Clock | None = None) -> None:
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self._series: dict[str, Series] = {}

    def series(self, symbol: str) -> Series:
        if symbol not in SYMBOLS:
            raise MarketDataError(
                f"bundled: no sample data for {symbol} (available: {', '.join(SYMBOLS)})"
            )
        if symbol not in self._series:
            self._series[symbol] = load_series(symbol)
        return self._series[symbol]

    def steps(self, now: datetime) -> float:
        """Replay steps elapsed since the anchor (fractional part: progress of the forming bar)."""
        return (now - self.options.anchor).total_seconds() / self.options.seconds_per_bar

    def _bar(self, data: Series, index: int, ts: datetime) -> Bar:
        i = index % len(data)
        return Bar(
            ts=ts,
            open=data.open[i],
            high=data.high[i],
            low=data.low[i],
            close=data.close[i],
            volume=data.volume[i],
        )

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        secs = interval_seconds(interval)
        if secs % NATIVE_SECONDS:
            raise MarketDataError(f"bundled: data is hourly; cannot make {interval} bars")
        data = self.series(instrument.symbol)
        now = self.clock.now()
        newest = math.floor(self.steps(now)) - 1  # replay index of the newest closed bar
        newest_open = last_closed_open(now, NATIVE_SECONDS)
        if end is not None and end < newest_open:
            back = int((newest_open - floor_time(end, NATIVE_SECONDS)) / timedelta(hours=1))
            newest, newest_open = newest - back, newest_open - timedelta(hours=back)
        factor = secs // NATIVE_SECONDS
        count = limit * factor + factor
        step = timedelta(seconds=NATIVE_SECONDS)
        bars = [
            self._bar(data, newest - k, newest_open - k * step) for k in range(count - 1, -1, -1)
        ]
        return resample_bars(bars, NATIVE_SECONDS, secs)[-limit:]

    async def get_quote(self, instrument: Instrument) -> Quote:
        now = self.clock.now()
        mid = self._mid(self.series(instrument.symbol), self.steps(now))
        return spread_quote(instrument, mid, now, self.options.spread_bps)

    def _mid(self, data: Series, steps: float) -> float:
        """The replay's mid ``steps`` after the anchor: the forming bar's open moved toward its
        close by the bar's progress."""
        forming = math.floor(steps) % len(data)
        progress = steps - math.floor(steps)
        return data.open[forming] + progress * (data.close[forming] - data.open[forming])

    # ReplayPace: horizons in bars advance at the replay's pace, priced by what it quoted

    def bar_seconds(self, interval: str) -> float:
        return self.options.seconds_per_bar * interval_seconds(interval) / NATIVE_SECONDS

    async def price_at(self, instrument: Instrument, at: datetime) -> float | None:
        return self._mid(self.series(instrument.symbol), self.steps(at))

    async def close(self) -> None:
        self._series.clear()
