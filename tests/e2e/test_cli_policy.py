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
