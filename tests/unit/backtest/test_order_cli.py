"""``ffe backtest`` with order-level strategies: a built-in by name and a user's class."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

bt = pytest.importorskip("backtesting")
from backtesting.test import GOOG  # noqa: E402

from ffe_core.domain.errors import ValidationFailed  # noqa: E402
from ffe_entrypoints.cli.main import build_app  # noqa: E402

from .test_order_strategies import BtBracket  # noqa: E402

GOOG_CSV = str(Path(bt.__file__).parent / "test" / "GOOG.csv")
PARAMS = ["--param", "sl=0.05", "--param", "tp=0.1", "--param", "trail=0.03"]


def _bt_bracket() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bt.Backtest(GOOG, BtBracket, cash=10_000, commission=0.002).run(
            sl=0.05, tp=0.1, trail=0.03
        )


def test_builtin_sma_bracket_by_name_equals_backtesting_py() -> None:
    args = ["backtest", "--data", GOOG_CSV, "--strategy", "sma_bracket", *PARAMS]
    result = CliRunner().invoke(build_app(), [*args, "--commission", "0.002", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    ref = _bt_bracket()
    assert out["trades"] == ref["# Trades"] > 0  # type: ignore[index]
    assert out["final_equity"] == pytest.approx(ref["Equity Final [$]"], rel=1e-9)  # type: ignore[index]
    assert out["Buy & Hold Return [%]"] == pytest.approx(ref["Buy & Hold Return [%]"], rel=1e-9)  # type: ignore[index]


USER_STRATEGY = """
from ffe_core import indicators as ind
from ffe_core.backtest.orders import Strategy


class Bracket(Strategy):
    fast = 10
    slow = 30
    sl = 0.0
    tp = 0.0
    trail = 0.0

    def init(self):
        self.f = self.I(ind.sma, self.data.Close, self.fast)
        self.s = self.I(ind.sma, self.data.Close, self.slow)

    def next(self):
        c = float(self.data.Close[-1])
        f, s = self.f, self.s
        if f[-2] < s[-2] and f[-1] > s[-1]:
            if self.position.size <= 0:
                self.position.close()
                self.buy(sl=c * (1 - self.sl), tp=c * (1 + self.tp), trail=self.trail)
        elif s[-2] < f[-2] and s[-1] > f[-1]:
            self.position.close()


NOT_A_STRATEGY = 3
"""


def test_a_users_strategy_class_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(USER_STRATEGY)
    args = ["backtest", "--data", GOOG_CSV, "--strategy", f"{path}:Bracket", *PARAMS]
    result = CliRunner().invoke(build_app(), [*args, "--commission", "0.002", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    ref = _bt_bracket()
    assert out["trades"] == ref["# Trades"]  # type: ignore[index]
    assert out["final_equity"] == pytest.approx(ref["Equity Final [$]"], rel=1e-9)  # type: ignore[index]


@pytest.mark.parametrize(
    ("ref", "extra", "says"),
    [
        ("{path}:Nope", [], "has no 'Nope'"),
        ("{path}:NOT_A_STRATEGY", [], "must be a"),
        ("missing_module_xyz:Bracket", [], "No module named"),
        (
            "{path}:Bracket",
            ["--param", "nope=1"],
            "Bracket has no such parameter (it takes fast, sl, slow, tp, trail)",
        ),
        ("sma_bracket", ["--param", "sl=2"], "--param sl: 2 is outside 0..0.99"),
        ("{path}:Bracket", ["--param", "fast=x"], "--param fast: 'x' is not an integer"),
        ("sma_bracket", ["--sl", "0.02"], "--sl/--tp apply to target strategies"),
    ],
)
def test_bad_order_strategies_raise_validation_failed(
    tmp_path: Path, ref: str, extra: list[str], says: str
) -> None:
    path = tmp_path / "mine.py"
    path.write_text(USER_STRATEGY)
    args = ["backtest", "--data", GOOG_CSV, "--strategy", ref.format(path=path), *extra]
    result = CliRunner().invoke(build_app(), args)
    # ValidationFailed is what the CLI's entry point turns into one line and exit code 2
    assert isinstance(result.exception, ValidationFailed), result.output
    assert says in str(result.exception)
