"""ffe's simulator and statistics against backtesting.py 0.6 on seeded random cases.

Each case (``bt_reference.random_case``) draws bars with gaps, flat bars and prices from 1e-3
to 1e5, random targets (long/short/flat), market, limit, stop and stop-limit entries, SL/TP,
relative and fixed commission, spread, fractional sizing, ``trade_on_close`` and
``finalize``; backtesting.py runs the same decisions through :class:`bt_reference.FollowTarget`.
Trades, the equity curve and the named statistics must be equal, except for the documented
difference (docs/backtesting.md): with ``trade_on_close`` and ``finalize`` backtesting.py
closes the last position at bar n-2's close, ffe at bar n-1's. Cases are generated so the
other documented differences (stop fills after a gap with ``trade_on_close``, stop-limits that
gap over their stop) cannot arise; ``test_parity_differences.py`` shows those.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ffe_core.backtest.simulator import EXIT_REASONS, RunResult
from ffe_core.backtest.stats import compute_stats

from .bt_reference import Case, random_case, run_backtesting_py, run_ffe

REL = 1e-9
STATS = [
    "Exposure Time [%]",
    "Equity Final [$]",
    "Equity Peak [$]",
    "Commissions [$]",
    "Return [%]",
    "Buy & Hold Return [%]",
    "Return (Ann.) [%]",
    "Volatility (Ann.) [%]",
    "CAGR [%]",
    "Sharpe Ratio",
    "Sortino Ratio",
    "Calmar Ratio",
    "Alpha [%]",
    "Beta",
    "Max. Drawdown [%]",
    "Avg. Drawdown [%]",
    "Max. Drawdown Duration",
    "Avg. Drawdown Duration",
    "# Trades",
    "Win Rate [%]",
    "Best Trade [%]",
    "Worst Trade [%]",
    "Avg. Trade [%]",
    "Max. Trade Duration",
    "Avg. Trade Duration",
    "Profit Factor",
    "Expectancy [%]",
    "SQN",
    "Kelly Criterion",
]
SEEDS = {"market": range(0, 120), "orders": range(1000, 1120), "stop_limit": range(2000, 2100)}


def _close(got: float, want: float, key: str, atol: float = 1e-12) -> None:
    if isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got), (key, got, want)
    elif isinstance(want, float) and math.isinf(want):
        assert got == want, (key, got, want)
    else:
        assert math.isclose(got, want, rel_tol=REL, abs_tol=atol), (key, got, want)


def _end_differs(case: Case, ours: RunResult) -> bool:
    """True when the documented trade_on_close end-of-data exit applies to this run."""
    t = ours.trades
    n = len(case.df)
    return (
        case.config.trade_on_close
        and case.config.finalize
        and len(t) > 0
        and EXIT_REASONS[t.reason[-1]] == "end"
        and t.exit_bar[-1] == n - 1
        and ours.equity[-1] > 0
    )


def check_case(case: Case) -> None:
    ref = run_backtesting_py(case)
    ours = run_ffe(case)
    rt = ref["_trades"]
    n = len(case.df)
    t = ours.trades
    keep = len(t)
    ref_eq = ref["_equity_curve"]["Equity"].to_numpy()
    eq_n = n
    end_differs = _end_differs(case, ours)
    if end_differs:
        # backtesting.py re-runs its broker on the last bar with "previous close" prices.
        last = rt.iloc[-1]
        assert last["ExitBar"] == n - 2
        assert last["ExitPrice"] == case.df.Close.iloc[n - 2]
        assert t.exit_price[-1] == case.df.Close.iloc[n - 1]
        keep -= 1
        eq_n -= 1
    assert len(rt) == len(t), (len(rt), len(t))
    rt = rt.iloc[:keep]
    np.testing.assert_array_equal(t.entry_bar[:keep], rt["EntryBar"].to_numpy())
    np.testing.assert_array_equal(t.exit_bar[:keep], rt["ExitBar"].to_numpy())
    for ours_col, ref_col in [
        ("size", "Size"),
        ("entry_price", "EntryPrice"),
        ("exit_price", "ExitPrice"),
        ("commission", "Commission"),
        ("pnl", "PnL"),
    ]:
        np.testing.assert_allclose(
            getattr(t, ours_col)[:keep],
            rt[ref_col].to_numpy(dtype=float),
            rtol=REL,
            err_msg=ref_col,
        )
    atol = case.config.cash * 1e-12
    np.testing.assert_allclose(ours.equity[:eq_n], ref_eq[:eq_n], rtol=REL, atol=atol)
    if end_differs:
        return
    stats = compute_stats(ours, case.bars, alpha_beta=True)
    for key in STATS:
        want, got = ref.get(key, math.nan), stats.get(key, math.nan)
        if isinstance(want, pd.Timedelta):
            assert pd.Timedelta(got) == want, key
        else:
            _close(float(got), float(want), key, atol=1e-9)


def _params(kind: str) -> list[Any]:
    return [pytest.param(kind, s, id=f"{kind}-{s}") for s in SEEDS[kind]]


@pytest.mark.parametrize(
    ("kind", "seed"), _params("market") + _params("orders") + _params("stop_limit")
)
def test_random_case_equals_backtesting_py(kind: str, seed: int) -> None:
    check_case(random_case(seed, kind=kind))


def test_the_random_cases_cover_what_they_claim() -> None:
    """The generator reaches every branch the suite is meant to compare."""
    seen: dict[str, int] = {}
    for kind, seeds in SEEDS.items():
        for seed in seeds:
            case = random_case(seed, kind=kind)
            run = run_ffe(case)
            cfg = case.config
            t = run.trades
            flags = {
                "trades": len(t) > 0,
                "no trade (cash < one unit)": len(t) == 0 and cfg.cash < case.df.Close.iloc[0],
                "short": bool(np.any(t.size < 0)),
                "stop_loss": bool(np.any(t.reason == 1)),
                "take_profit": bool(np.any(t.reason == 2)),
                "ruined": bool(run.equity[-1] == 0),
                "trade_on_close": cfg.trade_on_close and len(t) > 0,
                "no finalize": not cfg.finalize and len(t) > 0,
                "limit/stop entry": bool(
                    np.any(~np.isnan(case.limit[t.entry_bar - 1]))
                    or np.any(~np.isnan(case.stop[t.entry_bar - 1]))
                ),
                "tiny prices": float(case.df.Close.iloc[0]) < 0.01 and len(t) > 0,
                "huge prices": float(case.df.Close.iloc[0]) > 1e4 and len(t) > 0,
            }
            for k, v in flags.items():
                seen[k] = seen.get(k, 0) + int(v)
    missing = [k for k, v in seen.items() if v < 2]
    assert not missing, seen
