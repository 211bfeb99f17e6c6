"""One drawdown formula: statistics, reports, the API's status and the kill switch agree.

Each consumer is fed the same equity path and must report what :mod:`ffe_core.drawdown` says,
for floats, numpy arrays and Decimals alike.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core.backtest.data import make_bars
from ffe_core.backtest.simulator import FillConfig, RunResult, Trades
from ffe_core.backtest.stats import compute_stats
from ffe_core.drawdown import drawdown, drawdown_curve, max_drawdown
from ffe_core.services.risk import RiskState
from ffe_entrypoints.reports import chart as report


def _no_trades() -> Trades:
    f, i = np.empty(0), np.empty(0, dtype=np.int64)
    return Trades(f, i, i, f, f, f, f, f, i)


equities = st.lists(st.floats(1.0, 1e6), min_size=2, max_size=200)


@given(equities)
def test_stats_report_and_status_share_the_formula(values: list[float]) -> None:
    eq = np.array(values)
    curve = drawdown_curve(eq)
    np.testing.assert_array_equal(curve, 1 - eq / np.maximum.accumulate(eq))
    np.testing.assert_array_equal(report.drawdown(eq), curve * -100)
    n = eq.size
    bars = make_bars(eq, eq, eq, eq)
    stats = compute_stats(RunResult(_no_trades(), eq, FillConfig()), bars)
    assert stats["Max. Drawdown [%]"] == pytest.approx(-float(curve.max()) * 100, abs=1e-12)
    assert max_drawdown(values) == pytest.approx(float(curve.max()), abs=1e-15)
    assert n == len(bars)


@given(st.decimals("1", "1e6", places=4), st.decimals("0", "1e6", places=4))
def test_the_kill_switch_reads_the_same_formula_in_decimal(peak: Decimal, last: Decimal) -> None:
    last = min(last, peak)
    state = RiskState(peak_equity=peak, last_equity=last)
    assert state.drawdown == drawdown(last, peak) == 1 - last / peak
    assert float(state.drawdown) == pytest.approx(float(drawdown(float(last), float(peak))))
