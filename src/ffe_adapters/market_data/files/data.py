"""The ``files`` source: bars from CSV/Parquet on disk, resampled up when the interval asks."""

from __future__ import annotations

import itertools
import statistics
from datetime import datetime
from pathlib import Path

from ffe_adapters.market_data.files.config import FilesOptions
from ffe_adapters.market_data.files.reader import latest, load_bars
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.intervals import interval_seconds
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.services.bar_quality import resample_bars
from ffe_core.services.market_data import spread_quote

SUFFIXES = (".csv", ".csv.gz", ".parquet")


def native_seconds(bars: list[Bar]) -> int:
    """The typical spacing of ``bars`` (median of positive steps), 0 when it cannot be told."""
    stamps = sorted({b.ts for b in bars})
    steps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    return int(statistics.median(steps)) if steps else 0


class FilesSource:
    """``MarketDataSource`` over local files; reads each file once per modification time."""

    name = "files"
    cacheable = False

    def __init__(self, options: FilesOptions, *, clock: Clock | None = None) -> None:
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self._loaded: dict[Path, tuple[float, list[Bar]]] = {}

    def path_for(self, symbol: str, interval: str) -> Path:
        if symbol in self.options.paths:
            return Path(self.options.paths[symbol])
        root = Path(self.options.directory)
        for stem in (f"{symbol}_{interval}", symbol):
            for suffix in SUFFIXES:
                candidate = root / f"{stem}{suffix}"
                if candidate.is_file():
                    return candidate
        raise MarketDataError(
            f"files: no file for {symbol} in {root} (tried {symbol}_{interval}.csv, {symbol}.csv, "
            ".csv.gz, .parquet); or set adapters.files.paths"
        )

    def _bars(self, path: Path) -> list[Bar]:
        try:
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise MarketDataError(f"files: cannot read {path} ({exc.strerror})") from None
        cached = self._loaded.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_bars(path, timezone=self.options.timezone))
            self._loaded[path] = cached
        return cached[1]

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        secs = interval_seconds(interval)
        path = self.path_for(instrument.symbol, interval)
        bars = self._bars(path)
        native = native_seconds(bars)
        if native and native != secs:
            if native > secs or secs % native:
                raise MarketDataError(
                    f"files: {path} holds {native}s bars; cannot make {interval} bars from them"
                )
            bars = resample_bars(sorted(bars, key=lambda b: b.ts), native, secs)
        return latest(bars, limit, end)

    async def get_quote(self, instrument: Instrument) -> Quote:
        bars = self._bars(self.path_for(instrument.symbol, "1h"))
        now = self.clock.now()
        past = [b for b in bars if b.ts <= now]
        if not past:
            raise MarketDataError(f"files: no bar at or before {now.isoformat()} for a quote")
        last = max(past, key=lambda b: b.ts)
        return spread_quote(instrument, last.close, last.ts, self.options.spread_bps)

    async def close(self) -> None:
        self._loaded.clear()
