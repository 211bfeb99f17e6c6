"""One exit policy for every command: 2 bad input or config, 3 upstream failure, one line on
stderr, a traceback only with ``--debug`` (accepted anywhere on the line)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from ffe_core.domain.errors import (
    ConflictError,
    MarketDataError,
    NotFoundError,
    PluginError,
    ProviderError,
    ValidationFailed,
)
from ffe_entrypoints.cli.main import EXIT_CODES
from tests.e2e.test_cli import assert_one_line_error, run


@pytest.fixture
def bars(tmp_path: Path) -> Path:
    path = tmp_path / "bars.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "open", "high", "low", "close", "volume"])
        for i in range(300):
            p = 100 + 10 * math.sin(i / 10)
            w.writerow([1_700_000_000 + 3600 * i, p, p + 1, p - 1, p + 0.5, 10])
    return path


def exit_code(exc: Exception) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


def test_bad_input_is_2_and_upstream_failure_is_3() -> None:
    for bad in (
        NotFoundError("x"),
        ConflictError("x"),
        PluginError("registry", "x"),
        ValidationFailed("x"),
    ):
        assert exit_code(bad) == 2, bad
    for upstream in (MarketDataError("x"), ProviderError("x")):
        assert exit_code(upstream) == 3, upstream


def test_a_wrong_symbol_is_bad_input(tmp_path: Path) -> None:
    assert_one_line_error(run(["decide", "NOPE-USD"], tmp_path), 2, "unknown instrument 'NOPE-USD'")


def test_a_bad_param_names_it_and_what_fits(tmp_path: Path, bars: Path) -> None:
    base = ["backtest", "--data", str(bars), "--strategy", "ema_cross"]
    assert_one_line_error(
        run([*base, "--param", "fast=abc"], tmp_path), 2, "--param fast", "not an integer"
    )
    assert_one_line_error(
        run([*base, "--param", "speed=3"], tmp_path), 2, "--param speed", "fast, short, slow"
    )


def test_a_wrong_strategy_is_bad_input(tmp_path: Path, bars: Path) -> None:
    proc = run(["backtest", "--data", str(bars), "--strategy", "nope"], tmp_path)
    assert_one_line_error(proc, 2, "no strategies adapter named 'nope'", "ema_cross")


def test_debug_is_accepted_after_the_subcommand(tmp_path: Path, bars: Path) -> None:
    ok = run(["backtest", "--data", str(bars), "--strategy", "ema_cross", "--debug"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    failing = run(["backtest", "--data", str(bars), "--strategy", "nope", "--debug"], tmp_path)
    assert failing.returncode != 0 and "Traceback" in failing.stderr  # asked for it


def test_decide_shows_the_risk_verdict_size_levels_and_every_vote(tmp_path: Path) -> None:
    proc = run(["decide", "BTC-USD"], tmp_path, {"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "risk: " in out and "size: " in out and "stop loss: " in out
    for provider in ("trend", "mean_reversion", "breakout"):
        assert provider in out


def test_agent_run_json_counts_this_runs_orders_not_the_ledgers(tmp_path: Path) -> None:
    """A run's ``orders`` counts the orders it made, not the ledger's (runs repeat until the
    ledger holds two: how soon the bundled replay trades depends on where its clock is)."""
    import json
    import sqlite3

    db = tmp_path / "ffe.db"
    fast = {
        "FFE_AGENT__INTERVAL_SECONDS": "0.2",
        "FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR": "0.2",
        "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{db}",
    }

    def ledger() -> int:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])

    def agent_run(cycles: int) -> dict[str, int]:
        proc = run(["agent", "run", "--cycles", str(cycles), "--json"], tmp_path, fast)
        assert proc.returncode == 0, proc.stderr
        out: dict[str, int] = json.loads(proc.stdout)
        assert out["cycles"] == cycles and out["decisions"] <= cycles
        return out

    held = 0
    for _ in range(5):  # until the ledger holds more orders than one cycle can make
        out = agent_run(12)
        assert out["orders"] <= ledger() - held  # made in this run (adopted exits are older)
        held = ledger()
        if held >= 2:
            break
    assert held >= 2, "the bundled replay traded less than twice in 60 cycles"
    second = agent_run(1)
    assert second["orders"] <= 1  # at most this cycle's order, not the ledger's


def test_optimize_shows_the_top_results_with_key_stats_rounded(tmp_path: Path, bars: Path) -> None:
    import re

    args = ["optimize", "--data", str(bars), "--strategy", "ema_cross", "--top", "3"]
    proc = run(args, tmp_path, {"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    for stat in ("Return [%]", "Max. Drawdown [%]", "# Trades", "Win Rate [%]"):
        assert stat in proc.stdout
    assert "fast=" in proc.stdout and "slow=" in proc.stdout
    assert not re.search(r"\d\.\d{6,}", proc.stdout), proc.stdout  # no 16-digit floats
    rows = [ln for ln in proc.stdout.splitlines() if re.match(r"^│ [123] ", ln)]
    assert len(rows) == 3
