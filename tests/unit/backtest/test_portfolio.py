"""Multi-asset portfolio backtests: one account, the agent's risk limits, per-instrument costs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ffe_core.backtest.data import Bars, make_bars
from ffe_core.backtest.portfolio import (
    REASONS,
    common_clock,
    portfolio_stats,
    run_portfolio,
)
from ffe_core.backtest.simulator import FillConfig
from ffe_core.backtest.strategies import sma_cross
from ffe_core.config import RiskSettings
from ffe_core.domain.errors import ValidationFailed
from ffe_entrypoints.cli.main import build_app

HOUR = np.timedelta64(1, "h")


def _bars(close: list[float] | np.ndarray, start: str = "2024-01-01T00") -> Bars:
    c = np.asarray(close, dtype=float)
    o = np.r_[c[0], c[:-1]]
    t = np.datetime64(start) + np.arange(c.size) * HOUR
    return make_bars(o, np.maximum(o, c), np.minimum(o, c), c, None, t)


def _loose(**kw: float) -> RiskSettings:
    base = {"max_daily_loss": 1.0, "max_drawdown": 1.0}
    return RiskSettings(**{**base, **kw})


def test_entries_are_sized_by_position_and_gross_exposure_limits() -> None:
    flat = [100.0] * 10
    bars = [_bars(flat), _bars(flat)]
    long_from_1 = np.r_[0, np.ones(9)].astype(np.int8)
    risk = _loose(max_position_fraction=0.25, max_gross_exposure=0.4, max_leverage=1.0)
    res = run_portfolio(
        ["A", "B"], bars, [long_from_1, long_from_1], [FillConfig()] * 2, cash=10_000, risk=risk
    )
    # A: 25 % of 10,000 at 100 -> 25 units; B: gross room 0.4 * 10,000 - 2,500 -> 15 units
    assert res.trades[0].size.tolist() == [25.0]
    assert res.trades[1].size.tolist() == [15.0]
    assert res.trades[0].entry_bar.tolist() == [2] and REASONS[res.trades[0].reason[0]] == "end"


def test_the_leverage_limit_binds_on_its_own() -> None:
    flat = [100.0] * 10
    long_from_1 = np.r_[0, np.ones(9)].astype(np.int8)
    risk = _loose(max_position_fraction=1.0, max_gross_exposure=10.0, max_leverage=1.5)
    res = run_portfolio(
        ["A", "B"],
        [_bars(flat), _bars(flat)],
        [long_from_1, long_from_1],
        [FillConfig()] * 2,
        cash=10_000,
        risk=risk,
    )
    # A takes all of equity (100 units); B only what 1.5x leverage leaves: 5,000 -> 50 units
    assert [t.size.tolist() for t in res.trades] == [[100.0], [50.0]]


def test_cash_and_contributions_add_up_to_the_equity() -> None:
    rng = np.random.default_rng(3)
    bars = [_bars(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 500)))) for _ in range(3)]
    targets = [sma_cross(b.open, b.high, b.low, b.close, b.volume, fast=3, slow=8) for b in bars]
    costs = [
        FillConfig(commission=0.001, unit_step=0.0),
        FillConfig(commission=0.0005, commission_fixed=1.0, spread=0.001, unit_step=0.0),
        FillConfig(slippage=0.002),
    ]
    res = run_portfolio(["A", "B", "C"], bars, targets, costs, cash=50_000, risk=_loose())
    pnl = sum(float(t.pnl.sum()) for t in res.trades)
    assert res.equity[-1] == pytest.approx(50_000 + pnl, rel=1e-12)
    np.testing.assert_allclose((res.contribution - 50_000).sum(axis=0) + 50_000, res.equity)
    assert all(len(t) > 5 for t in res.trades)
    stats = portfolio_stats(res, costs)
    assert stats["portfolio"]["# Trades"] == sum(len(t) for t in res.trades)
    assert set(stats["instruments"]) == {"A", "B", "C"}
    assert stats["kill_switch_bar"] is None


def test_the_kill_switch_closes_everything_and_blocks_entries() -> None:
    crash = [100.0] * 5 + [70.0] * 5 + [100.0] * 10
    bars = [_bars(crash), _bars([50.0] * 20)]
    flip = np.r_[0, np.ones(11), np.zeros(3), np.ones(5)].astype(np.int8)
    risk = _loose(
        max_position_fraction=1.0, max_gross_exposure=2.0, max_leverage=2.0, max_drawdown=0.2
    )
    res = run_portfolio(["A", "B"], bars, [flip, flip], [FillConfig()] * 2, cash=10_000, risk=risk)
    assert res.kill_bar == 5  # A fell 30 % on 100 % of equity: > 20 % drawdown at bar 5's close
    for t in res.trades:
        assert len(t) == 1 and t.exit_bar[0] == 6 and REASONS[t.reason[0]] == "kill_switch"
    assert np.all(res.equity[6:] == res.equity[6])  # the re-entry signal at bar 15 is ignored


def test_a_daily_loss_flattens_and_blocks_entries_until_the_next_day() -> None:
    # day 1: hours 0..23, a 10 % drop at hour 4; day 2 starts at bar 24
    close = [100.0] * 4 + [90.0] * 40
    bars = [_bars(close)]
    target = np.r_[0, np.ones(7), np.zeros(2), np.ones(14), np.zeros(2), np.ones(18)].astype(
        np.int8
    )
    risk = _loose(max_position_fraction=1.0, max_daily_loss=0.05)
    res = run_portfolio(["A"], bars, [target], [FillConfig()], cash=10_000, risk=risk)
    t = res.trades[0]
    assert REASONS[t.reason[0]] == "daily_loss" and t.exit_bar[0] == 5
    # the change at bar 10 (same day) is refused; the one at bar 26 (next day) enters at 27
    assert t.entry_bar.tolist() == [2, 27]


def test_instruments_are_put_on_their_common_clock() -> None:
    a = _bars([1.0, 2.0, 3.0, 4.0])
    b = _bars([5.0, 6.0, 7.0], start="2024-01-01T01")
    ca, cb = common_clock([a, b])
    assert ca.close.tolist() == [2.0, 3.0, 4.0] and cb.close.tolist() == [5.0, 6.0, 7.0]
    assert ca.time is not None and cb.time is not None and np.array_equal(ca.time, cb.time)
    with pytest.raises(ValidationFailed, match="fewer than 2"):
        common_clock([a, _bars([1.0, 2.0], start="2025-01-01T00")])


def _write(path: Path, seed: int, n: int = 600) -> None:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = np.r_[c[0], c[:-1]]
    t = np.datetime64("2024-01-01T00") + np.arange(n) * HOUR
    rows = ["time,open,high,low,close,volume"]
    for i in range(n):
        hi, lo = max(o[i], c[i]) * 1.001, min(o[i], c[i]) * 0.999
        rows.append(f"{t[i]}Z,{float(o[i])!r},{float(hi)!r},{float(lo)!r},{float(c[i])!r},1")
    path.write_text("\n".join(rows) + "\n")


def test_the_cli_runs_a_folder_as_one_portfolio(tmp_path: Path) -> None:
    for sym, seed in (("AAA", 1), ("BBB", 2), ("CCC", 3)):
        _write(tmp_path / f"{sym}_1h.csv", seed)
    args = ["backtest", "--data", str(tmp_path), "--strategy", "sma_cross", "--json"]
    result = CliRunner().invoke(build_app(), [*args, "--param", "fast=3", "--param", "slow=9"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out["instruments"]) == {"AAA_1h", "BBB_1h", "CCC_1h"}
    assert out["portfolio"]["# Trades"] == sum(out["trades"].values()) > 0
    assert out["final_equity"] == pytest.approx(out["portfolio"]["Equity Final [$]"])
    assert out["bars"] == 600


def test_the_cli_refuses_single_run_options_for_a_portfolio(tmp_path: Path) -> None:
    _write(tmp_path / "AAA.csv", 1)
    _write(tmp_path / "BBB.csv", 2)
    args = ["backtest", "--data", str(tmp_path / "AAA.csv"), "--data", str(tmp_path / "BBB.csv")]
    result = CliRunner().invoke(build_app(), [*args, "--strategy", "sma_cross", "--sl", "0.1"])
    assert isinstance(result.exception, ValidationFailed)
    assert "--sl: not available with several --data" in str(result.exception)
