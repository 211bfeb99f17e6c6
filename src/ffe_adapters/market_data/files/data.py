"""The ``files`` source: bars from files on disk, resampled up when the interval asks.

It is also the one bar loader of ffe (a ``BarFileReader``): the CLI's backtests read their
``--data`` file through :meth:`FilesSource.read_bars`, the agent and the API's backtest jobs
through :meth:`FilesSource.get_bars`; both use :func:`.reader.read_bars`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from ffe_adapters.market_data.files.config import FilesOptions
from ffe_core.domain.errors import MarketDataError, ValidationFailed
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.intervals import interval_seconds
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.services.bar_quality import resample_bars
from ffe_core.services.market_data import spread_quote

if TYPE_CHECKING:
    from ffe_core.backtest.data import Bars

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".feather", ".arrow", ".json", ".json.gz")
"""File name endings looked for, in this order (the reader tells formats by the same endings)."""

IntArray = npt.NDArray[np.int64]
_NS = 10**9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def native_seconds(time_ns: IntArray) -> int:
    """The typical spacing of bars at these times (median of positive steps), 0 if unknown."""
    steps = np.diff(np.unique(time_ns))
    return int(np.median(steps)) // _NS if steps.size else 0


def latest_rows(time_ns: IntArray, limit: int, end: datetime | None = None) -> IntArray:
    """Rows among the ``limit`` latest timestamps at or before ``end``, in file order.

    File order, duplicates and all, is kept on purpose: the service's quality report should see
    what the file really holds.
    """
    rows: IntArray = (
        np.arange(time_ns.size, dtype=np.int64)
        if end is None
        else np.flatnonzero(time_ns <= _ns(end)).astype(np.int64)
    )
    stamps = np.unique(time_ns[rows])
    if stamps.size <= limit:
        return rows
    kept: IntArray = rows[time_ns[rows] >= stamps[-limit]]
    return kept


def _ns(ts: datetime) -> int:
    return (ts.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1) * 1000


class FilesSource:
    """``MarketDataSource`` and ``BarFileReader`` over local files; each read once per mtime."""

    name = "files"
    cacheable = False

    def __init__(self, options: FilesOptions, *, clock: Clock | None = None) -> None:
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self._loaded: dict[Path, tuple[float, Bars]] = {}

    def read_bars(self, path: str | Path, *, time_unit: str | None = None) -> Bars:
        """The whole file, validated for a backtest (times strictly increasing)."""
        from ffe_adapters.market_data.files.reader import TimeUnit, read_bars  # pyarrow, numba

        unit: TimeUnit | None = time_unit  # type: ignore[assignment]  # read_bars checks it
        return read_bars(path, timezone=self.options.timezone, time_unit=unit)

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
            f"files: no file for {symbol} in {root} (tried {symbol}_{interval} and {symbol} "
            f"with {', '.join(SUFFIXES)}); or set adapters.files.paths"
        )

    def _bars(self, path: Path) -> Bars:
        try:
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise MarketDataError(f"files: cannot read {path} ({exc.strerror})") from None
        cached = self._loaded.get(path)
        if cached is None or cached[0] != mtime:
            from ffe_adapters.market_data.files.reader import read_bars

            try:
                bars = read_bars(path, timezone=self.options.timezone, ordered=False)
            except ValidationFailed as exc:
                raise MarketDataError(str(exc)) from None
            cached = (mtime, bars)
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
        t = _times(bars)
        native = native_seconds(t)
        if not native or native == secs:
            return _models(bars, latest_rows(t, limit, end), path)
        if native > secs or secs % native:
            raise MarketDataError(
                f"files: {path} holds {native}s bars; cannot make {interval} bars from them"
            )
        bucket = t // (secs * _NS)
        starts, counts = np.unique(bucket, return_counts=True)
        complete = starts[counts == secs // native]
        if end is not None:
            complete = complete[complete * secs * _NS <= _ns(end)]
        rows = np.flatnonzero(np.isin(bucket, complete[-limit:]))
        rows = rows[np.argsort(t[rows], kind="stable")]
        return resample_bars(_models(bars, rows, path), native, secs)

    async def get_quote(self, instrument: Instrument) -> Quote:
        path = self.path_for(instrument.symbol, "1h")
        bars = self._bars(path)
        t = _times(bars)
        past = np.flatnonzero(t <= _ns(self.clock.now()))
        if not past.size:
            raise MarketDataError(
                f"files: no bar at or before {self.clock.now().isoformat()} for a quote"
            )
        last = _models(bars, past[np.argmax(t[past]) : np.argmax(t[past]) + 1], path)[0]
        return spread_quote(instrument, last.close, last.ts, self.options.spread_bps)

    async def close(self) -> None:
        self._loaded.clear()


def _times(bars: Bars) -> IntArray:
    assert bars.time is not None  # read_bars always reads a time column
    return bars.time.view(np.int64)


def _models(bars: Bars, rows: IntArray, path: Path) -> list[Bar]:
    """Bar models for ``rows``; a row the model refuses (open outside [low, high]) is named."""
    t = _times(bars)
    out = []
    for i in rows.tolist():
        volume = float(bars.volume[i])
        try:
            out.append(
                Bar(
                    ts=_EPOCH + timedelta(microseconds=int(t[i]) // 1000),
                    open=float(bars.open[i]),
                    high=float(bars.high[i]),
                    low=float(bars.low[i]),
                    close=float(bars.close[i]),
                    volume=0.0 if np.isnan(volume) else volume,
                )
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(p) for p in first["loc"]) or "bar"
            raise MarketDataError(f"{path} row {i + 1}: {field}: {first['msg']}") from None
    return out
