"""``ffe backtest/optimize/walk-forward`` on data files as a user runs them: the README's own
example trades, Parquet and exchange layouts load, sizing defaults follow the instrument, and
bad data is one line with exit code 2."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ffe_entrypoints.cli.main import build_app
from tests.e2e.test_cli import assert_one_line_error, run

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_commands() -> list[list[str]]:
    """The ``ffe data fetch … synthetic`` and ``ffe backtest … sma_cross`` lines of the README."""
    found = []
    for line in README.read_text().splitlines():
        if not line.startswith("ffe "):
            continue
        words = shlex.split(line.split("#")[0])
        if (words[:3] == ["ffe", "data", "fetch"] and "synthetic" in words) or (
            words[:2] == ["ffe", "backtest"] and "sma_cross" in words
        ):
            found.append(words[1:])
    assert len(found) == 2, found
    return found


def _invoke(args: list[str], config: Path) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(build_app(), ["--config-dir", str(config), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    return directory


def test_the_readme_example_makes_trades(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fetch, backtest = _readme_commands()
    assert CliRunner().invoke(build_app(), ["--config-dir", str(config), *fetch]).exit_code == 0
    out = _invoke(backtest, config)
    assert out["trades"] > 0 and out["# Trades"] == out["trades"]
    assert out["warnings"] == []
    assert (tmp_path / "r.html").is_file() and (tmp_path / "r.png").is_file()
    # the README's optimize and walk-forward lines run on the same file, as written
    ran = []
    for line in README.read_text().splitlines():
        words = shlex.split(line.split("#")[0].split(" [")[0]) if line.startswith("ffe ") else []
        if words[:2] in (["ffe", "optimize"], ["ffe", "walk-forward"]):
            assert "--data" in words, line
            assert _invoke([*words[1:], "--json"], config), line
            ran.append(words[1])
    assert ran == ["optimize", "walk-forward"]


def test_whole_units_that_cash_cannot_buy_say_so(tmp_path: Path, config: Path) -> None:
    data = tmp_path / "BTC-USD_1h.csv"
    fetch = ["data", "fetch", "BTC-USD", "--source", "synthetic", "--bars", "300"]
    _ = CliRunner().invoke(build_app(), ["--config-dir", str(config), *fetch, "--out", str(data)])
    base = ["--data", str(data), "--strategy", "sma_cross", "--json", "--whole-units"]
    out = _invoke(["backtest", *base], config)
    assert out["trades"] == 0
    assert len(out["warnings"]) == 1 and "cannot buy one unit" in out["warnings"][0]
    grid = ["--param", "fast=5,10", "--param", "slow=20,30"]
    opt = _invoke(["optimize", *base, *grid], config)
    assert "cannot buy one unit" in opt["warnings"][0]
    wf = _invoke(
        ["walk-forward", *base, *grid, "--in-sample", "150", "--out-of-sample", "50"], config
    )
    assert "cannot buy one unit" in wf["warnings"][0]
    fractional = _invoke(["optimize", *base[:-1], "--fractional", *grid], config)
    assert fractional["warnings"] == [] and fractional["results"][0]["score"] is not None


def _frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close, "Volume": 1.0},
        index=index,
    )


def test_parquet_unix_ms_and_csv_give_the_same_backtest(tmp_path: Path, config: Path) -> None:
    frame = _frame()
    frame.to_csv(tmp_path / "x.csv")
    frame.to_parquet(tmp_path / "x.parquet")
    epochs = frame.reset_index(drop=True)
    epochs.insert(0, "timestamp", frame.index.asi8 // 10**6)
    epochs.to_csv(tmp_path / "ms.csv", index=False)
    runs = [
        _invoke(
            ["backtest", "--data", str(tmp_path / name), "--strategy", "sma_cross", "--json"],
            config,
        )
        for name in ("x.csv", "x.parquet", "ms.csv")
    ]
    assert runs[0]["trades"] > 0
    assert runs[0] == runs[1] == runs[2]


def test_bad_rows_and_options_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(",Open,High,Low,Close\n2020-01-01,1,2,0.5,1\n2020-01-02,1,2,0.5,oops\n")
    args = ["backtest", "--data", str(bad), "--strategy", "sma_cross"]
    assert_one_line_error(run(args, tmp_path), 2, "bad.csv line 3", "close 'oops'")
    good = tmp_path / "good.csv"
    good.write_text(",Open,High,Low,Close\n2020-01-01,1,2,0.5,1\n")
    args = ["backtest", "--data", str(good), "--strategy", "sma_cross", "--time-unit", "days"]
    assert_one_line_error(run(args, tmp_path), 2, "time unit 'days'")
