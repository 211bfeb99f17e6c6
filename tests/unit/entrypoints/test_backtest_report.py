"""The backtest report, read back: the HTML's axes carry dates, its legends name the series, one
marker per trade entry and exit, a stats table; the PNG shows the same markers and legends."""

from __future__ import annotations

import itertools
import warnings
from collections import deque
from datetime import datetime
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ffe_core.backtest.data import Bars, make_bars
from ffe_core.backtest.simulator import RunResult, simulate
from ffe_entrypoints.cli.main import build_app
from ffe_entrypoints.reports.chart import COLORS, ENTRY, EXIT, date_labels, nice_ticks
from ffe_entrypoints.reports.html import render_html
from ffe_entrypoints.reports.png import render_png

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import backtesting as bt

GOOG_CSV = str(Path(bt.__file__).parent / "test" / "GOOG.csv")
SERIES = {"Close", "Equity", "Buy and hold", "Drawdown [%]"}


class _Svg(HTMLParser):
    """Texts by the class of their element or enclosing group, and markers by kind."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[str] = []
        self.current: str | None = None
        self.texts: dict[str, list[str]] = {}
        self.markers: dict[str, int] = {"entry": 0, "exit": 0}
        self.series: list[str] = []
        self.stats: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "g":
            self.groups.append(cls)
        elif tag == "text":
            self.current = f"{self.groups[-1] if self.groups else ''}/{cls}"
        elif tag == "path" and cls.startswith("marker "):
            self.markers[cls.split()[1]] += 1
        elif tag in ("polyline", "polygon") and cls == "series":
            self.series.append(a["data-name"] or "")
        elif tag == "th":
            self._in_th = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self.groups.pop()
        elif tag == "text":
            self.current = None
        elif tag == "th":
            self._in_th = False

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.texts.setdefault(self.current, []).append(data)
        if self._in_th:
            self.stats.append(data)


def _parse(page: str) -> _Svg:
    parser = _Svg()
    parser.feed(page)
    return parser


def _cli_report(tmp_path: Path) -> tuple[str, bytes, int]:
    report = tmp_path / "run.html"
    args = ["backtest", "--data", GOOG_CSV, "--strategy", "sma_cross", "--json"]
    result = CliRunner().invoke(build_app(), [*args, "--report", str(report), "--png"])
    assert result.exit_code == 0, result.output
    import json

    trades = int(json.loads(result.stdout)["trades"])
    return report.read_text(), report.with_suffix(".png").read_bytes(), trades


def test_html_report_has_dated_axes_named_series_a_marker_per_trade_and_stats(
    tmp_path: Path,
) -> None:
    page, _, trades = _cli_report(tmp_path)
    svg = _parse(page)
    assert page.count("<svg") == 3 and "<script" not in page
    x_labels = svg.texts["x-axis/tick"]
    assert len(x_labels) == 3 * 6
    dates = [datetime.strptime(label, "%Y-%m-%d") for label in x_labels[:6]]
    assert dates == sorted(dates) and dates[0].year == 2004 and dates[-1].year == 2013
    assert svg.texts["x-axis/axis-title"] == ["date (UTC)"] * 3
    for label in svg.texts["y-axis/tick"]:
        float(label.replace(",", ""))  # every y tick is a number
    assert set(svg.texts["legend/legend-item"]) == SERIES | {"Entry", "Exit"}
    assert set(svg.series) == SERIES
    assert trades > 0 and svg.markers == {"entry": trades, "exit": trades}
    assert {"Sharpe Ratio", "Return [%]", "# Trades"} <= set(svg.stats)


def test_intraday_ticks_carry_the_time_of_day() -> None:
    times = np.arange(
        "2024-03-01T00:00", "2024-03-03T00:00", np.timedelta64(1, "h"), "datetime64[ns]"
    )
    labels = date_labels(times, [0, 10, 20, 30, 40, 47])
    assert labels == [
        "03-01 00:00",
        "03-01 10:00",
        "03-01 20:00",
        "03-02 06:00",
        "03-02 16:00",
        "03-02 23:00",
    ]
    assert date_labels(times, [0, 47]) == ["2024-03-01", "2024-03-02"]


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 1.0), (-23.7, 0.0), (9_850.0, 81_200.0), (5.0, 5.0)])
def test_y_ticks_are_round_and_cover_the_range(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 8
    step = ticks[1] - ticks[0]
    assert all(abs((b - a) - step) < 1e-9 * max(1.0, step) for a, b in itertools.pairwise(ticks))
    assert ticks[0] <= lo + step and ticks[-1] >= hi - step


def _three_trades() -> tuple[RunResult, Bars]:
    """Three trades far apart on 300 hourly bars, so their markers cannot touch."""
    n = 300
    close = 100 + 10 * np.sin(np.arange(n) / 20)
    times = np.arange(n).astype("timedelta64[h]") + np.datetime64("2024-01-01T00:00", "ns")
    bars = make_bars(close, close + 1, close - 1, close, np.ones(n), times)
    target = np.zeros(n, dtype=np.int8)
    target[20:60] = 1
    target[120:160] = -1
    target[220:260] = 1
    return simulate(bars, target), bars


def _blobs(mask: np.ndarray) -> int:
    """Connected components (4-neighbour) of a boolean image."""
    seen = np.zeros_like(mask)
    count = 0
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        count += 1
        queue = deque([(y, x)])
        seen[y, x] = True
        while queue:
            cy, cx = queue.popleft()
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                inside = 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]
                if inside and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
    return count


def test_png_shows_a_marker_per_trade_legend_swatches_and_tick_labels() -> None:
    from PIL import Image

    result, bars = _three_trades()
    assert len(result.trades) == 3
    image = np.asarray(Image.open(BytesIO(render_png(result, bars))).convert("RGB"))
    assert image.shape == (3 * 260, 1000, 3)

    def of(color: tuple[int, int, int]) -> np.ndarray:
        return np.all(image == np.array(color, dtype=np.uint8), axis=2)

    # three entries and three exits, each a triangle on the price panel, plus one legend swatch
    assert _blobs(of(ENTRY)) == 3 + 1
    assert _blobs(of(EXIT)) == 3 + 1
    for name in SERIES:  # every series has its legend swatch (a 13x11 block) in its panel
        assert of(COLORS[name]).sum() >= 13 * 11, name
    # text under each x tick (the date labels), on every panel
    for panel in range(3):
        band = image[panel * 260 + 218 : panel * 260 + 232, 84:956]
        dark = np.all(band < 120, axis=2)
        assert dark.any(axis=0).sum() > 6 * 20  # six labels, each wider than 20 px


def test_html_from_the_same_run_has_the_same_markers() -> None:
    result, bars = _three_trades()
    svg = _parse(render_html(result, bars, {"# Trades": 3}))
    assert svg.markers == {"entry": 3, "exit": 3}
    assert svg.texts["x-axis/tick"][:6][0] == "2024-01-01"
