"""The replay's per-series context indicators equal compute_indicators on every bar's window."""

from __future__ import annotations

import pytest

from ffe_core.backtest.context_indicators import indicators_at
from ffe_core.backtest.replay import bar_models
from ffe_core.domain.series import BarSeries
from ffe_core.services.context import compute_indicators
from tests.unit.replay.bars import random_bars


@pytest.mark.parametrize("history", [None, 1, 2, 20, 21, 27, 35, 60, 200])
def test_every_bar_reads_exactly_what_compute_indicators_gives(history: int | None) -> None:
    bars = random_bars(300, seed=history or 5)
    models = bar_models(bars)
    series = BarSeries(bars.open, bars.high, bars.low, bars.close, bars.volume, history)
    for i in range(len(bars)):
        start = 0 if history is None else max(0, i + 1 - history)
        want = compute_indicators(models[start : i + 1])
        got = indicators_at(series, i)
        assert got == want, (i, set(got.items()) ^ set(want.items()))
        assert list(got) == list(want)  # same keys, same order
