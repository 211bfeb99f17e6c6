"""A self-contained HTML report (inline SVG, no scripts or external files) and a PNG chart.

Charts: close price with trade entry/exit markers, equity, and drawdown. Long series are
reduced to per-pixel-column min/max envelopes so a 10M-bar run still renders at once. The PNG
is rasterised with numpy and encoded with zlib, so no plotting library is needed.
"""

from __future__ import annotations

import html
import math
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import RunResult
from ffe_core.drawdown import drawdown_curve

FloatArray = npt.NDArray[np.float64]
_W, _H = 1000, 220
_MAX_MARKERS = 400


def _envelope(y: FloatArray, cols: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x centre, min, max) of y per column, so long series keep their extremes."""
    n = y.size
    edges = np.linspace(0, n, min(cols, n) + 1).astype(np.int64)
    starts = edges[:-1]
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    return (starts + edges[1:] - 1) / 2.0, lo, hi


def _scale(v: FloatArray, lo: float, hi: float, size: float) -> FloatArray:
    span = (hi - lo) or 1.0
    return size - (v - lo) / span * size


def _svg_series(
    y: FloatArray,
    title: str,
    color: str,
    *,
    fill: bool = False,
    markers: list[tuple[int, float, str]] | None = None,
) -> str:
    n = y.size
    xc, lo, hi = _envelope(y, _W)
    ymin, ymax = float(np.min(y)), float(np.max(y))
    pad = 18.0
    plot_h = _H - 2 * pad
    xs = xc / max(n - 1, 1) * _W
    pts_hi = [
        f"{x:.1f},{pad + v:.1f}" for x, v in zip(xs, _scale(hi, ymin, ymax, plot_h), strict=True)
    ]
    pts_lo = [
        f"{x:.1f},{pad + v:.1f}" for x, v in zip(xs, _scale(lo, ymin, ymax, plot_h), strict=True)
    ]
    parts = [
        f'<svg viewBox="0 0 {_W} {_H}" width="100%" role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="13" font-size="12">{html.escape(title)} '
        f"(min {ymin:,.4g}, max {ymax:,.4g})</text>",
    ]
    if fill:
        base = f"{xs[-1]:.1f},{pad:.1f} {xs[0]:.1f},{pad:.1f}"
        parts.append(f'<polygon points="{" ".join(pts_lo)} {base}" fill="{color}" opacity="0.5"/>')
    else:
        path = " ".join(pts_hi + pts_lo[::-1])
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1"/>')
    for bar, price, kind in (markers or [])[:_MAX_MARKERS]:
        x = bar / max(n - 1, 1) * _W
        yy = pad + float(_scale(np.array([price]), ymin, ymax, plot_h)[0])
        mark = "#1a7f37" if kind == "entry" else "#cf222e"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="{mark}"><title>'
            f"{kind} bar {bar} @ {price:.6g}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _markers(result: RunResult) -> list[tuple[int, float, str]]:
    t = result.trades
    out: list[tuple[int, float, str]] = []
    for i in range(len(t)):
        out.append((int(t.entry_bar[i]), float(t.entry_price[i]), "entry"))
        out.append((int(t.exit_bar[i]), float(t.exit_price[i]), "exit"))
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "—" if not math.isfinite(v) else f"{v:,.4f}"
    return html.escape(str(v))


def drawdown(equity: FloatArray) -> FloatArray:
    """Drawdown in percent (<= 0) from the running equity peak (:func:`drawdown_curve`)."""
    return drawdown_curve(equity) * -100


def render_html(
    result: RunResult, bars: Bars, stats: Mapping[str, Any], *, title: str = "ffe backtest"
) -> str:
    """The report as one HTML string."""
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in stats.items()
    )
    charts = [
        _svg_series(bars.close, "Close and trades", "#444", markers=_markers(result)),
        _svg_series(result.equity, "Equity", "#0969da"),
        _svg_series(drawdown(result.equity), "Drawdown [%]", "#cf222e", fill=True),
    ]
    style = (
        "body{font-family:sans-serif;max-width:1040px;margin:auto}"
        "table{border-collapse:collapse}th,td{padding:2px 8px;text-align:left}"
        "tr:nth-child(odd){background:#f4f4f4}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
        + "".join(f"<div>{c}</div>" for c in charts)
        + f"<h2>Statistics</h2><table>{rows}</table></body></html>"
    )


def write_html(path: str | Path, result: RunResult, bars: Bars, stats: Mapping[str, Any]) -> Path:
    p = Path(path)
    p.write_text(render_html(result, bars, stats, title=f"ffe backtest: {p.stem}"))
    return p


def _raster(
    img: npt.NDArray[np.uint8], y: FloatArray, top: int, h: int, rgb: tuple[int, ...]
) -> None:
    w = img.shape[1]
    _, lo, hi = _envelope(y, w)
    ymin, ymax = float(np.min(y)), float(np.max(y))
    r_hi = np.clip(_scale(hi, ymin, ymax, h - 1), 0, h - 1).astype(np.int64)
    r_lo = np.clip(_scale(lo, ymin, ymax, h - 1), 0, h - 1).astype(np.int64)
    cols = np.linspace(0, w - 1, lo.size).astype(np.int64)
    for k, x in enumerate(cols):
        a = min(int(r_hi[k]), int(r_lo[k]), int(r_lo[k - 1]) if k else h)
        b = max(int(r_hi[k]), int(r_lo[k]), int(r_hi[k - 1]) if k else 0)
        img[top + a : top + b + 1, x] = rgb


def render_png(result: RunResult, bars: Bars, width: int = 1000) -> bytes:
    """Three stacked panels (close, equity, drawdown) as PNG bytes; trade entries as ticks."""
    h = 200
    img = np.full((3 * h + 20, width, 3), 255, dtype=np.uint8)
    _raster(img, bars.close, 0, h, (60, 60, 60))
    n = len(bars)
    for bar in result.trades.entry_bar[:_MAX_MARKERS]:
        img[h - 8 : h, int(bar / max(n - 1, 1) * (width - 1))] = (26, 127, 55)
    _raster(img, result.equity, h + 10, h, (9, 105, 218))
    _raster(img, drawdown(result.equity), 2 * h + 20, h, (207, 34, 46))
    raw = b"".join(b"\x00" + row.tobytes() for row in img)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, img.shape[0], 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
