"""The backtest CLI end to end (CliRunner), the strategy hook, and the report files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

bt = pytest.importorskip("backtesting")
from backtesting.test import GOOG  # noqa: E402

from ffe_adapters.registry import load_registry  # noqa: E402
from ffe_core.backtest.strategies import BUILTIN_STRATEGIES  # noqa: E402
from ffe_core.domain.errors import ValidationFailed  # noqa: E402
from ffe_entrypoints.cli.main import build_app  # noqa: E402

from .cli_inputs import GOOG_CSV, SMA_GRID  # noqa: E402
from .test_equivalence_backtesting_py import SmaCross  # noqa: E402


def test_builtin_strategies_come_through_the_plugin_registry() -> None:
    reg = load_registry(entry_points=False)
    for name, fn in BUILTIN_STRATEGIES.items():
        assert reg.factory("strategies", name) is fn


def test_backtest_json_matches_backtesting_py_and_writes_reports(tmp_path: Path) -> None:
    report = tmp_path / "run.html"
    result = CliRunner().invoke(
        build_app(),
        [
            "backtest",
            "--data",
            GOOG_CSV,
            "--strategy",
            "sma_cross",
            "--param",
            "fast=10",
            "--param",
            "slow=30",
            "--commission",
            "0.002",
            "--json",
            "--report",
            str(report),
            "--png",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bt.Backtest(GOOG, SmaCross, cash=10_000, commission=0.002, finalize_trades=True).run(
            fast=10, slow=30
        )
    assert out["trades"] == ref["# Trades"]
    assert out["final_equity"] == pytest.approx(ref["Equity Final [$]"], rel=1e-9)
    assert out["Sharpe Ratio"] == pytest.approx(ref["Sharpe Ratio"], rel=1e-9)
    page = report.read_text()
    assert page.count("<svg") == 3 and "Sharpe Ratio" in page and "<script" not in page
    png = report.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")  # read back in tests/unit/entrypoints


@pytest.mark.parametrize("finalize", [True, False])
def test_backtest_finalize_option_matches_backtesting_pys_finalize_trades(finalize: bool) -> None:
    flag = "--finalize" if finalize else "--no-finalize"
    args = ["backtest", "--data", GOOG_CSV, "--strategy", "sma_cross", flag, "--json"]
    result = CliRunner().invoke(build_app(), [*args, "--commission", "0.002"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bt.Backtest(GOOG, SmaCross, cash=10_000, commission=0.002, finalize_trades=finalize)
        stats = ref.run(fast=10, slow=30)
    assert out["trades"] == stats["# Trades"]
    assert out["final_equity"] == pytest.approx(stats["Equity Final [$]"], rel=1e-9)
    assert out["Win Rate [%]"] == pytest.approx(stats["Win Rate [%]"], rel=1e-9)


def test_optimize_and_walk_forward_print_json() -> None:
    app = build_app()
    opt = CliRunner().invoke(
        app,
        [
            "optimize",
            *SMA_GRID,
            "--objective",
            "return",
            "--json",
        ],
    )
    assert opt.exit_code == 0, opt.output
    data = json.loads(opt.stdout)
    assert data["evaluated"] == 4
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)
    wf = CliRunner().invoke(
        app,
        [
            "walk-forward",
            *SMA_GRID,
            "--in-sample",
            "800",
            "--out-of-sample",
            "400",
            "--json",
        ],
    )
    assert wf.exit_code == 0, wf.output
    assert len(json.loads(wf.stdout)["windows"]) == 4


def test_bad_data_raises_validation_failed_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(",Open,High,Low,Close\n2020-01-01,1,2,0.5,1\n2020-01-01,1,2,0.5,1\n")
    result = CliRunner().invoke(
        build_app(), ["backtest", "--data", str(bad), "--strategy", "sma_cross"]
    )
    assert isinstance(result.exception, ValidationFailed)
    assert "bad.csv line 3" in str(result.exception)


def test_alpha_and_beta_come_on_request_and_equal_backtesting_py() -> None:
    """Alpha/Beta are a regression over the whole run: off by default (they cost more than the
    rest of the statistics), ``--alpha-beta`` adds them, equal to backtesting.py's."""
    args = ["backtest", "--data", GOOG_CSV, "--strategy", "sma_cross", "--json"]
    plain = CliRunner().invoke(build_app(), args)
    asked = CliRunner().invoke(build_app(), [*args, "--alpha-beta"])
    assert plain.exit_code == 0 and asked.exit_code == 0, plain.output + asked.output
    assert "Beta" not in json.loads(plain.stdout)
    out = json.loads(asked.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bt.Backtest(GOOG, SmaCross, cash=10_000, finalize_trades=True).run()
    assert out["Beta"] == pytest.approx(ref["Beta"], rel=1e-9)
    assert out["Alpha [%]"] == pytest.approx(ref["Alpha [%]"], rel=1e-9)
