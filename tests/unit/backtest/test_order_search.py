"""Order-level strategies in parameter searches and walk-forward (``ffe optimize`` /
``ffe walk-forward`` and the API's jobs run these same functions)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from ffe_core.backtest.data import make_bars
from ffe_core.backtest.order_strategies import SMA_BRACKET
from ffe_core.backtest.orders import (
    BrokerConfig,
    order_runner,
    parameters,
    run_compiled_strategy,
)
from ffe_core.backtest.search import best, grid, run_search
from ffe_core.backtest.simulator import FillConfig
from ffe_core.backtest.stats import compute_stats
from ffe_core.backtest.walk_forward import walk_forward
from ffe_core.domain.errors import ValidationFailed
from ffe_entrypoints.cli.main import build_app

from .bt_reference import _bars
from .order_reference import bt
from .test_order_strategies import BtBracket, PyBracket

GOOG_CSV = str(Path(bt.__file__).parent / "test" / "GOOG.csv")
SPACE: dict[str, Any] = {"fast": (5, 10), "slow": (20, 30), "sl": (0.0, 0.05), "tp": (0.0, 0.1)}


def _goog() -> Any:
    from backtesting.test import GOOG

    return GOOG


def test_optimize_of_an_order_strategy_equals_backtesting_py_optimize() -> None:
    df = _goog()
    bars = make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)
    fill = FillConfig(cash=10_000, commission=0.002)
    cands = grid(SPACE, lambda p: p["fast"] < p["slow"])
    evals = run_search(bars, order_runner(SMA_BRACKET), cands, fill, objective="equity", workers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bt.Backtest(
            df, BtBracket, cash=10_000, commission=0.002, finalize_trades=True
        ).optimize(
            **{k: list(v) for k, v in SPACE.items()},
            maximize="Equity Final [$]",
            constraint=lambda p: p.fast < p.slow,
        )
    top = best(evals)
    assert top.score == pytest.approx(ref["Equity Final [$]"], rel=1e-9)
    # every candidate's score is the final equity of its own run
    for ev in evals[:4]:
        run = run_compiled_strategy(bars, SMA_BRACKET, BrokerConfig(fill), **ev.params)
        assert ev.score == run.equity[-1]


def test_a_sharpe_search_scores_each_run_after_its_own_warm_up() -> None:
    df = _bars(np.random.default_rng(3), 400, gaps=True)
    bars = make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)
    cands = grid({"fast": (3, 5), "slow": (12, 20)})
    evals = run_search(bars, order_runner(SMA_BRACKET), cands, FillConfig(), workers=1)
    for ev in evals:
        run = run_compiled_strategy(bars, SMA_BRACKET, **ev.params)
        stats = compute_stats(run, bars, warmup=run.warmup)
        assert ev.score == stats["Sharpe Ratio"] or (np.isnan(stats["Sharpe Ratio"]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_first_bar_runs_agree_in_both_forms_and_start_flat(seed: int) -> None:
    df = _bars(np.random.default_rng(seed), 300, gaps=True)
    bars = make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)
    p = {"fast": 3, "slow": 9, "sl": 0.02, "tp": 0.05, "trail": 0.0}
    fill = FillConfig(cash=float(df.Close.iloc[0]) * 50)
    first = 120
    compiled = order_runner(SMA_BRACKET).run(bars, p, fill, first)
    python = order_runner(PyBracket).run(bars, p, fill, first)
    assert len(compiled.equity) == len(bars) - first
    np.testing.assert_array_equal(compiled.equity, python.equity)
    np.testing.assert_array_equal(compiled.trades.entry_bar, python.trades.entry_bar)
    assert compiled.equity[0] == fill.cash and len(compiled.trades) > 0
    assert compiled.trades.entry_bar.min() >= 1  # nothing traded on warm-up bars
    # before the indicators are warm, ``first`` changes nothing: the run is the whole one cut
    whole = run_compiled_strategy(bars, SMA_BRACKET, BrokerConfig(fill), **p)
    early = order_runner(SMA_BRACKET).run(bars, p, fill, 5)
    np.testing.assert_array_equal(early.equity, whole.equity[5:])
    np.testing.assert_array_equal(early.trades.entry_bar, whole.trades.entry_bar - 5)


def test_walk_forward_trades_each_window_with_its_winner_from_the_previous_equity() -> None:
    df = _bars(np.random.default_rng(7), 900, gaps=True)
    bars = make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)
    fill = FillConfig(cash=float(df.Close.iloc[0]) * 50)
    cands = grid({"fast": (3, 5), "slow": (12, 20), "tp": (0.0, 0.05)})
    res = walk_forward(
        bars, order_runner(SMA_BRACKET), cands, fill, in_sample=300, out_of_sample=200, workers=1
    )
    assert len(res.windows) == 3 and res.equity.size == 600
    cash = fill.cash
    for k, w in enumerate(res.windows):
        hist = bars.slice(w.window.is_start, w.window.oos_end)
        first = w.window.is_end - w.window.is_start
        run = order_runner(SMA_BRACKET).run(hist, w.params, FillConfig(cash=cash), first)
        np.testing.assert_array_equal(res.equity[k * 200 : (k + 1) * 200], run.equity)
        cash = float(run.equity[-1])


def test_parameters_of_a_strategy_class_are_its_scalar_class_attributes() -> None:
    assert parameters(PyBracket) == {"fast": 10, "slow": 30, "sl": 0.0, "tp": 0.0, "trail": 0.0}
    assert parameters(SMA_BRACKET) == SMA_BRACKET.defaults


def _cli(*args: str) -> Any:
    return CliRunner().invoke(build_app(), list(args))


def test_ffe_optimize_runs_an_order_strategy_by_name() -> None:
    out = _cli(
        "optimize", "--data", GOOG_CSV, "--strategy", "sma_bracket", "--commission", "0.002",
        "--param", "fast=5,10", "--param", "slow=20,30", "--param", "sl=0,0.05",
        "--param", "tp=0,0.1", "--objective", "equity", "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert answer["evaluated"] == 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bt.Backtest(
            _goog(), BtBracket, cash=10_000, commission=0.002, finalize_trades=True
        ).optimize(**{k: list(v) for k, v in SPACE.items()}, maximize="Equity Final [$]")
    assert answer["results"][0]["score"] == pytest.approx(ref["Equity Final [$]"], rel=1e-9)


def test_ffe_walk_forward_runs_a_strategy_class_from_a_file(tmp_path: Path) -> None:
    from .test_order_cli import USER_STRATEGY

    path = tmp_path / "mine.py"
    path.write_text(USER_STRATEGY)
    out = _cli(
        "walk-forward", "--data", GOOG_CSV, "--strategy", f"{path}:Bracket",
        "--in-sample", "600", "--out-of-sample", "300",
        "--param", "fast=5,10", "--param", "slow=20,30", "--param", "sl=0.05",
        "--param", "tp=0.1", "--json",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert len(answer["windows"]) >= 4
    assert all(w["params"]["fast"] < 20 for w in answer["windows"])


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--param", "sl=2"], "--param sl[0]: 2 is outside 0..0.99"),
        (["--param", "fast=5,x"], "--param fast"),
        (["--param", "nope=1,2"], "--param nope: sma_bracket has no such parameter"),
        (["--sl", "0.1"], "--sl/--tp apply to target strategies"),
    ],
)
@pytest.mark.parametrize("command", ["optimize", "walk-forward"])
def test_bad_order_strategy_options_are_refused_with_the_reason(
    command: str, args: list[str], said: str
) -> None:
    windows = ["--in-sample", "600", "--out-of-sample", "300"] if command != "optimize" else []
    out = _cli(command, "--data", GOOG_CSV, "--strategy", "sma_bracket", *windows, *args)
    # ValidationFailed is what the CLI's entry point turns into one line and exit code 2
    assert isinstance(out.exception, ValidationFailed), out.output
    assert said in str(out.exception)


def test_an_invalid_order_in_a_search_is_a_validation_error() -> None:
    bars = _goog_bars()
    with pytest.raises(ValidationFailed, match="strategy: Long orders require"):
        run_search(bars, order_runner(PyBracket), [{"sl": -1.0}], FillConfig(), workers=1)


def _goog_bars() -> Any:
    df = _goog()
    return make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)
