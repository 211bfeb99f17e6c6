"""What the report draws, independent of the medium: three panels over one dated x-axis.

1. close price with a marker per trade entry and exit,
2. equity against buy-and-hold (the starting equity invested in the instrument at the first bar),
3. drawdown in percent from the running equity peak;

each with labelled y ticks at round values and a legend naming its series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import RunResult
from ffe_core.drawdown import drawdown_curve

FloatArray = npt.NDArray[np.float64]
RGB = tuple[int, int, int]
X_TICKS = 6
Y_TICKS = 5
MAX_MARKERS = 2_000
"""Beyond this many trade markers the price panel shows the first ones and says so."""


@dataclass(frozen=True)
class Series:
    name: str
    values: FloatArray
    color: RGB


@dataclass(frozen=True)
class Marker:
    bar: int
    price: float
    kind: Literal["entry", "exit"]


@dataclass(frozen=True)
class Panel:
    title: str
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, str], ...]
    y_range: tuple[float, float]
    fill: bool = False
    markers: tuple[Marker, ...] = ()
    markers_total: int = 0


@dataclass(frozen=True)
class Chart:
    bars: int
    x_ticks: tuple[tuple[int, str], ...]
    """(bar index, label): dates when the bars have times, else bar numbers."""
    x_title: str
    panels: tuple[Panel, ...]


ENTRY: RGB = (26, 127, 55)
EXIT: RGB = (130, 80, 223)
COLORS: dict[str, RGB] = {
    "Close": (80, 80, 80),
    "Equity": (9, 105, 218),
    "Buy and hold": (191, 135, 0),
    "Drawdown [%]": (207, 34, 46),
}


def drawdown(equity: FloatArray) -> FloatArray:
    """Drawdown in percent (<= 0) from the running equity peak (:func:`drawdown_curve`)."""
    return drawdown_curve(equity) * -100


def buy_and_hold(close: FloatArray, start_equity: float) -> FloatArray:
    """``start_equity`` invested in the instrument at the first close."""
    out: FloatArray = start_equity * close / close[0]
    return out


def nice_ticks(lo: float, hi: float, count: int = Y_TICKS) -> tuple[float, ...]:
    """Round values (1, 2, 2.5 or 5 times a power of ten) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ()
    if hi <= lo:
        hi, lo = lo + (abs(lo) or 1.0) * 0.5, lo - (abs(lo) or 1.0) * 0.5
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    return tuple(t for t in ticks if lo - step * 1e-9 <= t) or (first,)


def _tick_label(v: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{v:,.{min(decimals, 6)}f}"


def _y_axis(
    series: tuple[Series, ...],
) -> tuple[tuple[tuple[float, str], ...], tuple[float, float]]:
    lo = min(float(np.nanmin(s.values)) for s in series)
    hi = max(float(np.nanmax(s.values)) for s in series)
    ticks = nice_ticks(lo, hi)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    span = (min(lo, ticks[0]), max(hi, ticks[-1])) if ticks else (lo, hi)
    return tuple((t, _tick_label(t, step)) for t in ticks if span[0] <= t <= span[1]), span


def date_labels(times: npt.NDArray[np.datetime64], at: list[int]) -> list[str]:
    """Tick labels for bars ``at``: dates, with the time of day when the ticks share a day."""
    stamps = [
        datetime.fromtimestamp(int(times[i].astype("datetime64[s]").astype(np.int64)), UTC)
        for i in at
    ]
    days = [s.date() for s in stamps]
    if len(set(days)) == len(days):
        return [s.strftime("%Y-%m-%d") for s in stamps]
    return [s.strftime("%m-%d %H:%M") for s in stamps]


def _x_ticks(bars: Bars) -> tuple[tuple[tuple[int, str], ...], str]:
    n = len(bars)
    at = sorted({round(float(i)) for i in np.linspace(0, n - 1, min(X_TICKS, n))})
    if bars.time is None:
        return tuple((i, f"{i:,}") for i in at), "bar"
    return tuple(zip(at, date_labels(bars.time, at), strict=True)), "date (UTC)"


def _markers(result: RunResult) -> list[Marker]:
    t = result.trades
    out: list[Marker] = []
    for i in range(len(t)):
        out.append(Marker(int(t.entry_bar[i]), float(t.entry_price[i]), "entry"))
        out.append(Marker(int(t.exit_bar[i]), float(t.exit_price[i]), "exit"))
    return out


def _panel(title: str, series: tuple[Series, ...], **kw: object) -> Panel:
    ticks, span = _y_axis(series)
    return Panel(title, series, ticks, span, **kw)  # type: ignore[arg-type]


def build_chart(result: RunResult, bars: Bars) -> Chart:
    """The three panels of a run on ``bars``."""
    close = np.asarray(bars.close, dtype=np.float64)
    equity = np.asarray(result.equity, dtype=np.float64)
    markers = _markers(result)
    x_ticks, x_title = _x_ticks(bars)

    def s(name: str, values: FloatArray) -> Series:
        return Series(name, values, COLORS[name])

    return Chart(
        bars=len(bars),
        x_ticks=x_ticks,
        x_title=x_title,
        panels=(
            _panel(
                "Price and trades",
                (s("Close", close),),
                markers=tuple(markers[:MAX_MARKERS]),
                markers_total=len(markers),
            ),
            _panel(
                "Equity",
                (s("Equity", equity), s("Buy and hold", buy_and_hold(close, float(equity[0])))),
            ),
            _panel("Drawdown", (s("Drawdown [%]", drawdown(equity)),), fill=True),
        ),
    )


def envelope(y: FloatArray, cols: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x centre, min, max) of y per column, so long series keep their extremes."""
    n = y.size
    edges = np.linspace(0, n, min(cols, n) + 1).astype(np.int64)
    starts = edges[:-1]
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    return (starts + edges[1:] - 1) / 2.0, lo, hi
