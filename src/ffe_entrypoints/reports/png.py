"""The report's charts as one PNG (Pillow): the same panels, ticks, legends and trade markers
as the HTML page, stacked, with the statistics left to the HTML."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import RunResult
from ffe_core.domain.errors import ConfigError
from ffe_entrypoints.reports.chart import ENTRY, EXIT, Chart, Panel, build_chart, envelope
from ffe_entrypoints.reports.html import (
    BOTTOM,
    LEFT,
    PLOT_H,
    PLOT_W,
    RIGHT,
    TOP,
    H,
    W,
    legend_items,
    x_of,
    y_of,
)

if TYPE_CHECKING:  # Pillow is imported only when a PNG is asked for
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont, ImageFont

GRID = (235, 235, 235)
FRAME = (150, 150, 150)
INK = (40, 40, 40)


def _draw_panel(
    draw: ImageDraw, font: ImageFont | FreeTypeFont, chart: Chart, panel: Panel, dy: int
) -> None:
    n = chart.bars
    draw.text((LEFT, dy + 8), panel.title, fill=INK, font=font)
    for v, label in panel.y_ticks:
        y = y_of(v, panel) + dy
        draw.line([(LEFT, y), (W - RIGHT, y)], fill=GRID)
        draw.text((LEFT - 6, y), label, fill=INK, font=font, anchor="rm")
    for bar, label in chart.x_ticks:
        x = x_of(bar, n)
        draw.line([(x, dy + TOP + PLOT_H), (x, dy + TOP + PLOT_H + 5)], fill=FRAME)
        draw.text((x, dy + TOP + PLOT_H + 8), label, fill=INK, font=font, anchor="mt")
    draw.text(
        (LEFT + PLOT_W / 2, dy + H - BOTTOM + 24), chart.x_title, fill=INK, font=font, anchor="mt"
    )
    draw.rectangle([(LEFT, dy + TOP), (LEFT + PLOT_W, dy + TOP + PLOT_H)], outline=FRAME)
    for s in panel.series:
        xc, lo, hi = envelope(s.values, PLOT_W)
        xs = [x_of(float(x), n) for x in xc]
        low = [(x, y_of(float(v), panel) + dy) for x, v in zip(xs, lo, strict=True)]
        if panel.fill:
            zero = y_of(0.0, panel) + dy
            draw.polygon([*low, (xs[-1], zero), (xs[0], zero)], fill=s.color)
        else:
            top = [(x, y_of(float(v), panel) + dy) for x, v in zip(xs, hi, strict=True)]
            draw.line(top, fill=s.color, width=1)
            for (x, a), (_, b) in zip(top, low, strict=True):
                draw.line([(x, a), (x, b)], fill=s.color)
    for m in panel.markers:
        x, y = x_of(m.bar, n), y_of(m.price, panel) + dy
        tip = y + 7 if m.kind == "entry" else y - 7
        base = tip + (6 if m.kind == "entry" else -6)
        draw.polygon(
            [(x, tip), (x - 4, base), (x + 4, base)], fill=ENTRY if m.kind == "entry" else EXIT
        )
    x = W - RIGHT - 8
    for name, color in reversed(legend_items(panel)):
        x -= 7 * len(name) + 22
        draw.rectangle([(x, dy + 8), (x + 12, dy + 18)], fill=color)
        draw.text((x + 16, dy + 13), name, fill=INK, font=font, anchor="lm")


def render_png(result: RunResult, bars: Bars) -> bytes:
    """The three panels (price and trades, equity and buy-and-hold, drawdown) as PNG bytes."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ConfigError("--png needs Pillow: pip install 'ffe[report]'") from None
    chart = build_chart(result, bars)
    image = Image.new("RGB", (W, H * len(chart.panels)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=11)
    for i, panel in enumerate(chart.panels):
        _draw_panel(draw, font, chart, panel, i * H)
    out = BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
