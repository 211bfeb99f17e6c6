"""Backtest jobs size units from the instrument (fractional for crypto) and say when cash cannot
buy one unit; run in this process through the worker's own ``run_job``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ffe_core.config import Settings
from ffe_entrypoints.assembly import Assembly, shutdown
from ffe_entrypoints.container import build_container
from ffe_entrypoints.services import backtest_worker
from ffe_entrypoints.services.backtest_worker import run_job

STRATEGY = {"strategy": "sma_cross", "strategy_ref": "ffe_core.backtest.strategies:sma_cross"}

ASSEMBLY = Assembly(build_container, shutdown)


@pytest.fixture
def worker() -> Iterator[None]:
    settings = Settings(market_data={"sources": ["bundled"]})
    backtest_worker.init_worker(settings.model_dump(), [0.0], [0], 0, ASSEMBLY)
    try:
        yield
    finally:
        if backtest_worker._worker is not None:
            backtest_worker._worker._close()
        backtest_worker._worker = None


def _job(instrument: str, cash: float, **extra: Any) -> dict[str, Any]:
    spec = {
        "kind": "backtest",
        "bars": 600,
        "instrument": instrument,
        "cash": cash,
        "commission": 0.0,
        "params": {"fast": 10, "slow": 30},
        "grid": {},
        **STRATEGY,
        **extra,
    }
    outcome = run_job(spec, 0)
    assert outcome["status"] == "done", outcome
    result: dict[str, Any] = outcome["result"]
    return result


def test_crypto_trades_fractional_units_without_a_warning(worker: None) -> None:
    result = _job("BTC-USD", 10_000)
    assert result["stats"]["# Trades"] > 0 and result["warnings"] == []
    assert any(t["size"] != int(t["size"]) for t in result["trades"])


def test_whole_units_that_cash_cannot_buy_are_reported(worker: None) -> None:
    result = _job("AAPL", 50)
    assert result["stats"]["# Trades"] == 0
    assert len(result["warnings"]) == 1 and "cannot buy one unit" in result["warnings"][0]
    grid = {"kind": "optimize", "grid": {"fast": [5, 10], "slow": [20, 30]}}
    assert "cannot buy one unit" in _job("AAPL", 50, **grid)["warnings"][0]
