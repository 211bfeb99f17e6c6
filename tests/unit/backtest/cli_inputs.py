"""What the backtest CLI tests give ``ffe``: backtesting.py's GOOG sample and a small search."""

from __future__ import annotations

from pathlib import Path

import pytest

bt = pytest.importorskip("backtesting")

GOOG_CSV = str(Path(bt.__file__).parent / "test" / "GOOG.csv")
SMA_GRID = [
    "--data",
    GOOG_CSV,
    "--strategy",
    "sma_cross",
    "--param",
    "fast=5,10",
    "--param",
    "slow=20,30",
]
"""A 2 x 2 ``sma_cross`` grid on GOOG, for ``optimize`` or ``walk-forward``."""
