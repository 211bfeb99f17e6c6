"""The report as one self-contained HTML page: inline SVG charts (no scripts, no external files)
and a statistics table.

Each chart has a dated x-axis, labelled y ticks, a legend naming its series, and (price panel)
one marker per trade entry and exit. Long series are reduced to per-pixel-column min/max
envelopes, so a 10M-bar run still renders at once.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import RunResult
from ffe_entrypoints.reports.chart import ENTRY, EXIT, RGB, Chart, Panel, build_chart, envelope

W, H = 1000, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 44, 30, 40
PLOT_W, PLOT_H = W - LEFT - RIGHT, H - TOP - BOTTOM


def x_of(bar: float, bars: int) -> float:
    return LEFT + bar / max(bars - 1, 1) * PLOT_W


def y_of(v: float, panel: Panel) -> float:
    lo, hi = panel.y_range
    return TOP + PLOT_H - (v - lo) / ((hi - lo) or 1.0) * PLOT_H


def _rgb(c: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def _text(x: float, y: float, label: str, cls: str, anchor: str = "middle") -> str:
    return (
        f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11">'
        f"{html.escape(label)}</text>"
    )


def _svg(chart: Chart, panel: Panel) -> str:
    n = chart.bars
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" width="100%" role="img" '
        f'aria-label="{html.escape(panel.title)}">',
        _text(LEFT, 16, panel.title, "chart-title", "start").replace(
            'font-size="11"', 'font-size="13"'
        ),
        f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="#999"/>',
        '<g class="y-axis">',
    ]
    for v, label in panel.y_ticks:
        y = y_of(v, panel)
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, label, "tick", "end"))
    parts.append('</g><g class="x-axis">')
    for bar, label in chart.x_ticks:
        x = x_of(bar, n)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + PLOT_H}" y2="{TOP + PLOT_H + 5}" '
            'stroke="#999"/>'
        )
        parts.append(_text(x, TOP + PLOT_H + 18, label, "tick"))
    parts.append(_text(LEFT + PLOT_W / 2, H - 4, chart.x_title, "axis-title"))
    parts.append("</g>")
    for s in panel.series:
        xc, lo, hi = envelope(s.values, PLOT_W)
        xs = [x_of(float(x), n) for x in xc]
        top = [f"{x:.1f},{y_of(float(v), panel):.1f}" for x, v in zip(xs, hi, strict=True)]
        low = [f"{x:.1f},{y_of(float(v), panel):.1f}" for x, v in zip(xs, lo, strict=True)]
        name = html.escape(s.name)
        if panel.fill:
            zero = y_of(0.0, panel)
            base = f"{xs[-1]:.1f},{zero:.1f} {xs[0]:.1f},{zero:.1f}"
            parts.append(
                f'<polygon class="series" data-name="{name}" points="{" ".join(low)} {base}" '
                f'fill="{_rgb(s.color)}" opacity="0.5"/>'
            )
        else:
            parts.append(
                f'<polyline class="series" data-name="{name}" points="{" ".join(top + low[::-1])}" '
                f'fill="none" stroke="{_rgb(s.color)}" stroke-width="1.2"/>'
            )
    for m in panel.markers:
        x, y = x_of(m.bar, n), y_of(m.price, panel)
        tip = y + 7 if m.kind == "entry" else y - 7  # entry: ▲ below the price, exit: ▼ above
        foot = tip + (6 if m.kind == "entry" else -6)
        color = ENTRY if m.kind == "entry" else EXIT
        parts.append(
            f'<path class="marker {m.kind}" data-bar="{m.bar}" '
            f'd="M{x:.1f},{tip:.1f} L{x - 4:.1f},{foot:.1f} L{x + 4:.1f},{foot:.1f} Z" '
            f'fill="{_rgb(color)}"><title>{m.kind} bar {m.bar} @ {m.price:.6g}</title></path>'
        )
    parts.append(_legend(panel))
    parts.append("</svg>")
    return "".join(parts)


def legend_items(panel: Panel) -> list[tuple[str, RGB]]:
    """The legend's (name, colour) pairs: the series, then the trade markers when any."""
    items = [(s.name, s.color) for s in panel.series]
    if panel.markers:
        items += [("Entry", ENTRY), ("Exit", EXIT)]
    return items


def _legend(panel: Panel) -> str:
    parts = ['<g class="legend">']
    x = W - RIGHT - 8
    for name, color in reversed(legend_items(panel)):
        width = 7 * len(name) + 22
        x -= width
        parts.append(f'<rect x="{x:.0f}" y="8" width="12" height="10" fill="{_rgb(color)}"/>')
        parts.append(_text(x + 16, 17, name, "legend-item", "start"))
    parts.append("</g>")
    return "".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return "—" if not math.isfinite(v) else f"{v:,.4f}"
    return html.escape(str(v))


def render_html(
    result: RunResult, bars: Bars, stats: Mapping[str, Any], *, title: str = "ffe backtest"
) -> str:
    """The report as one HTML string."""
    chart = build_chart(result, bars)
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in stats.items()
    )
    price = chart.panels[0]
    note = (
        f"<p>Trade markers: the first {len(price.markers):,} of {price.markers_total:,}.</p>"
        if len(price.markers) < price.markers_total
        else ""
    )
    style = (
        "body{font-family:sans-serif;max-width:1040px;margin:auto}"
        "table{border-collapse:collapse}th,td{padding:2px 8px;text-align:left}"
        "td{text-align:right;font-variant-numeric:tabular-nums}"
        "tr:nth-child(odd){background:#f4f4f4}text{font-family:sans-serif;fill:#333}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
        + "".join(f"<div>{_svg(chart, p)}</div>" for p in chart.panels)
        + note
        + f'<h2>Statistics</h2><table class="stats">{rows}</table></body></html>'
    )


def write_html(path: str | Path, result: RunResult, bars: Bars, stats: Mapping[str, Any]) -> Path:
    p = Path(path)
    p.write_text(render_html(result, bars, stats, title=f"ffe backtest: {p.stem}"))
    return p
