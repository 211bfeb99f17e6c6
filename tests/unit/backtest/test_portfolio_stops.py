"""Portfolio backtests with the risk manager's stop-loss and take-profit on every entry."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ffe_core import indicators as ind
from ffe_core.backtest.data import Bars, make_bars
from ffe_core.backtest.portfolio import REASONS, exit_counts, portfolio_stats, run_portfolio
from ffe_core.backtest.simulator import FillConfig
from ffe_core.backtest.strategies import sma_cross
from ffe_core.config import RiskSettings
from ffe_core.domain.errors import ValidationFailed
from ffe_entrypoints.cli.main import build_app

from .test_portfolio import HOUR, _write


def _walk(seed: int, n: int = 400) -> Bars:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = np.r_[c[0], c[:-1]] * (1 + rng.normal(0, 0.003, n))  # gaps
    hi = np.maximum(o, c) * (1 + np.abs(rng.normal(0, 0.004, n)))
    lo = np.minimum(o, c) * (1 - np.abs(rng.normal(0, 0.004, n)))
    t = np.datetime64("2024-01-01T00") + np.arange(n) * HOUR
    return make_bars(o, hi, lo, c, None, t)


def _loose(**kw: float) -> RiskSettings:
    base = {"max_daily_loss": 1.0, "max_drawdown": 1.0, "max_position_fraction": 1.0}
    return RiskSettings(**{**base, **kw})


def _reference(
    b: Bars, target: np.ndarray, mult: float, rr: float
) -> list[tuple[int, int, float, float, float, str]]:
    """One instrument, written out bar by bar: (entry bar, exit bar, exit price, sl, tp, why)."""
    atr = ind.atr(b.high, b.low, b.close, 14)
    n = len(b)
    out = []
    side, entry, sl, tp = 0, -1, math.nan, math.nan
    want, prev, pending = 0, 0, False
    for i in range(n):
        if side and pending and want != side:
            out.append((entry, i, float(b.open[i]), sl, tp, "signal"))
            side = 0
        if pending and want and not side and atr[i - 1] > 0:
            dist = mult * atr[i - 1]
            side, entry = want, i
            sl = b.close[i - 1] - side * dist
            tp = b.close[i - 1] + side * rr * dist
        if side:
            o, h, lo = b.open[i], b.high[i], b.low[i]
            if (side > 0 and lo <= sl) or (side < 0 and h >= sl):
                px = min(o, sl) if side > 0 else max(o, sl)
                out.append((entry, i, float(px), sl, tp, "stop_loss"))
                side = 0
            elif (side > 0 and h >= tp) or (side < 0 and lo <= tp):
                px = max(o, tp) if side > 0 else min(o, tp)
                out.append((entry, i, float(px), sl, tp, "take_profit"))
                side = 0
        pending = 0 < i < n - 1 and target[i] != prev
        if pending:
            prev = want = int(target[i])
    if side:
        out.append((entry, n - 1, float(b.close[-1]), sl, tp, "end"))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_stops_and_targets_follow_the_risk_managers_levels_bar_by_bar(seed: int) -> None:
    b = _walk(seed)
    target = sma_cross(b.open, b.high, b.low, b.close, b.volume, fast=3, slow=9, short=True)
    risk = _loose(atr_stop_multiple=1.5, reward_risk=2.0)
    res = run_portfolio(
        ["A"], [b], [target], [FillConfig(unit_step=0.0)], cash=10_000, risk=risk, protective=True
    )
    t = res.trades[0]
    prices = np.column_stack([t.exit_price, t.sl, t.tp]).tolist()
    got = [
        (int(t.entry_bar[k]), int(t.exit_bar[k]), *prices[k], REASONS[t.reason[k]])
        for k in range(len(t))
    ]
    want = _reference(b, np.asarray(target), 1.5, 2.0)
    assert len(got) == len(want) > 5
    for g, w in zip(got, want, strict=True):
        assert g[:2] == w[:2] and g[5] == w[5]
        np.testing.assert_allclose(g[2:5], w[2:5], rtol=1e-12)
    assert {"stop_loss", "take_profit"} <= set(exit_counts(t.reason))


def test_stops_too_far_to_touch_change_nothing() -> None:
    bars = [_walk(11), _walk(12), _walk(13)]
    targets = [sma_cross(b.open, b.high, b.low, b.close, b.volume, fast=3, slow=9) for b in bars]
    for t in targets:
        t[:20] = 0  # entries wait for the ATR, as the risk manager's do
    costs = [FillConfig(commission=0.001, unit_step=0.0)] * 3
    risk = _loose(max_position_fraction=0.3, atr_stop_multiple=1e9, reward_risk=1.0)
    plain = run_portfolio(["A", "B", "C"], bars, targets, costs, cash=10_000, risk=risk)
    stops = run_portfolio(
        ["A", "B", "C"], bars, targets, costs, cash=10_000, risk=risk, protective=True
    )
    np.testing.assert_array_equal(plain.equity, stops.equity)
    for p, s in zip(plain.trades, stops.trades, strict=True):
        np.testing.assert_array_equal(p.exit_bar, s.exit_bar)
        np.testing.assert_array_equal(p.size, s.size)
        assert np.isnan(p.sl).all() and (s.sl < 0).all()


def test_an_entry_without_an_atr_is_not_taken() -> None:
    b = _walk(5, 60)
    long_from_1 = np.r_[0, np.ones(59)].astype(np.int8)
    res = run_portfolio(
        ["A"], [b], [long_from_1], [FillConfig()], cash=10_000, risk=_loose(), protective=True
    )
    assert len(res.trades[0]) == 0  # the only change is at bar 1: ATR(14) is not there yet


def test_one_account_with_stops_reports_every_instrument_and_the_whole() -> None:
    bars = [_walk(21), _walk(22), _walk(23)]
    targets = [sma_cross(b.open, b.high, b.low, b.close, b.volume, fast=3, slow=9) for b in bars]
    costs = [FillConfig(commission=0.001, slippage=0.001, unit_step=0.0)] * 3
    risk = _loose(max_position_fraction=0.3, atr_stop_multiple=1.0, reward_risk=1.5)
    res = run_portfolio(
        ["A", "B", "C"], bars, targets, costs, cash=10_000, risk=risk, protective=True
    )
    pnl = sum(float(t.pnl.sum()) for t in res.trades)
    assert res.equity[-1] == pytest.approx(10_000 + pnl, rel=1e-12)
    np.testing.assert_allclose((res.contribution - 10_000).sum(axis=0) + 10_000, res.equity)
    stats = portfolio_stats(res, costs)
    assert stats["portfolio"]["# Trades"] == sum(len(t) for t in res.trades)
    for k, s in enumerate("ABC"):
        assert stats["instruments"][s]["# Trades"] == len(res.trades[k]) > 0
        stopped = res.trades[k].reason == REASONS.index("stop_loss")
        # a stop fills at its level or a worse open, then pays slippage
        t = res.trades[k]
        assert np.all(t.exit_price[stopped] <= t.sl[stopped] * (1 - 0.001) + 1e-9)


def test_the_cli_runs_a_portfolio_with_risk_stops(tmp_path: Path) -> None:
    for sym, seed in (("AAA", 1), ("BBB", 2)):
        _write(tmp_path / f"{sym}.csv", seed)
    args = ["backtest", "--data", str(tmp_path), "--strategy", "sma_cross", "--json"]
    args += ["--param", "fast=3", "--param", "slow=9"]
    plain = json.loads(CliRunner().invoke(build_app(), args).stdout)
    result = CliRunner().invoke(build_app(), [*args, "--risk-stops"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(plain["exits"]["AAA"]) <= {"signal", "end"}
    assert any("stop_loss" in e or "take_profit" in e for e in out["exits"].values())
    assert out["portfolio"]["# Trades"] == sum(out["trades"].values())
    assert out["instruments"]["AAA"]["# Trades"] == out["trades"]["AAA"]


def test_risk_stops_need_a_portfolio(tmp_path: Path) -> None:
    _write(tmp_path / "AAA.csv", 1)
    args = ["backtest", "--data", str(tmp_path / "AAA.csv"), "--strategy", "sma_cross"]
    result = CliRunner().invoke(build_app(), [*args, "--risk-stops"])
    assert isinstance(result.exception, ValidationFailed)
    assert "--risk-stops: a portfolio option" in str(result.exception)
