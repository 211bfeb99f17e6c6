"""One indicator library: moving averages, RSI, ATR, bands and channels live in
``ffe_core.indicators`` (full series) and ``ffe_core.indicators.windowed`` (per trailing
window); strategies, quant providers, risk sizing and replay import them from there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import ffe_core

SRC = Path(ffe_core.__file__).parent.parent
HOME = SRC / "ffe_core" / "indicators"
INDICATOR = re.compile(
    r"(^|_)(sma|ema|rsi|wilder|atr|bollinger|donchian|rolling_(max|min|std))(_|$)"
)
FORMULAS = ("100.0 - 100.0 / (1.0 +", "mid + k * sd", "(t - s) - y")


def test_indicator_kernels_and_formulas_have_one_home() -> None:
    stray = []
    for path in SRC.rglob("*.py"):
        if HOME in path.parents:
            continue
        text = path.read_text()
        stray += [f"{path}: {f}" for f in FORMULAS if f in text]
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef) or not INDICATOR.search(node.name):
                continue
            decorators = {ast.unparse(d) for d in node.decorator_list}
            if decorators & {
                "kernel",
                "tiered_kernel",
                "njit",
                "numba.njit",
            } or node.name.startswith("_"):
                stray.append(f"{path}: {node.name}")
    assert stray == []
