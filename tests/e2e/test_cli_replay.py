"""``ffe replay`` end to end on the three offline providers: JSON with the backtest's
statistics keys, attribution, decisions and cost; bad input as one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ffe_entrypoints.cli.main import build_app, run

OFFLINE = ("trend", "mean_reversion", "breakout")


def write_bars(path: Path, n: int, *, start: str = "2026-01-01", seed: int = 3) -> Path:
    """Hourly bars of a random walk around 100, in backtesting.py's CSV layout."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opn = close * (1 + rng.normal(0, 0.002, n))
    high = np.maximum(opn, close) * 1.004
    low = np.minimum(opn, close) * 0.996
    times = np.datetime64(start, "h") + np.arange(n)
    rows = ["Date,Open,High,Low,Close,Volume"]
    rows += [
        f"{t},{o:.6f},{h:.6f},{lo:.6f},{c:.6f},1000"
        for t, o, h, lo, c in zip(times, opn, high, low, close, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "config.yaml").write_text(
        f'storage:\n  url: "sqlite+aiosqlite:///{tmp_path / "ffe.db"}"\n'
        "providers:\n  enabled: [trend, mean_reversion, breakout]\n"
    )
    return directory


def replay_json(config_dir: Path, *args: str) -> dict:
    result = CliRunner().invoke(
        build_app(), ["--config-dir", str(config_dir), "replay", *args, "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_replay_json_has_backtest_stats_attribution_decisions_and_cost(
    tmp_path: Path, config_dir: Path
) -> None:
    data = write_bars(tmp_path / "btc.csv", 300)
    out = replay_json(config_dir, "--data", str(data), "--instrument", "BTC-USD")
    backtest = CliRunner().invoke(
        build_app(), ["backtest", "--data", str(data), "--strategy", "sma_cross", "--json"]
    )
    stat_keys = set(json.loads(backtest.stdout)) - {"strategy", "params", "warnings"}
    assert stat_keys <= set(out)
    assert out["trades"] == out["# Trades"] and out["final_equity"] == out["Equity Final [$]"]
    assert out["decisions"]["total"] == 300
    assert sum(out["decisions"][a] for a in ("BUY", "SELL", "HOLD")) == 300
    table = out["attribution"]["BTC-USD"]
    assert set(table["providers"]) == set(OFFLINE)
    for name in OFFLINE:
        row = table["providers"][name]
        assert row["votes"] + row["abstentions"] == 300
        assert row["abstentions"] > 0  # each needs warm-up bars before it votes
        assert 0 <= row["hit_rate"] <= 1 and 0 <= row["brier"] <= 1
        assert len(table["weights"]["providers"][name]) == len(table["weights"]["bars"])
    assert table["ensemble"]["return_pct"] == pytest.approx(out["Return [%]"], abs=1e-5)
    assert table["buy_and_hold"]["trades"] == 1
    assert table["quant_baseline"] is not None
    assert out["cost"]["calls"] == 0 and out["cost"]["estimate"] is None
    assert out["contaminated"] is False


def test_two_files_share_one_account(tmp_path: Path, config_dir: Path) -> None:
    a = write_bars(tmp_path / "a.csv", 200, seed=1)
    b = write_bars(tmp_path / "b.csv", 150, start="2026-01-05", seed=2)
    one = replay_json(config_dir, "--data", str(a), "--instrument", "BTC-USD")
    both = replay_json(
        config_dir,
        "--data",
        str(a),
        "--data",
        str(b),
        "--instrument",
        "BTC-USD",
        "--instrument",
        "ETH-USD",
    )
    assert set(both["attribution"]) == {"BTC-USD", "ETH-USD"}
    assert both["decisions"]["total"] == 350
    # the account starts with the configured cash once, split between the two sleeves
    assert 100_000 <= both["Equity Peak [$]"] < 150_000
    assert one["Start"] == both["Start"] and both["End"] > one["End"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--data", "missing.csv"], "missing.csv: cannot read"),
        (["--aggregation", "loudest"], "--aggregation 'loudest'"),
        (["--from", "2030-01-01"], "no bars between --from and --to"),
        (["--instrument", "A", "--instrument", "B"], "one --instrument per --data"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, config_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    data = write_bars(tmp_path / "btc.csv", 60)
    argv = ["--config-dir", str(config_dir), "replay"]
    if "--data" not in args:
        argv += ["--data", str(data)]
    with pytest.raises(SystemExit) as exit_:
        run([*argv, *args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert says in err and len(err.strip().splitlines()) == 1
