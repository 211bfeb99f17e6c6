"""``ffe backtest`` over several instruments: one account under the configured risk limits.

Given ``--data`` more than once (or a folder of bar files), every instrument runs the same
target strategy and parameters on the bar times all files share; entries are sized by the
``risk`` settings the agent uses (position fraction, gross exposure, leverage, daily loss,
kill switch on ``max_drawdown``), costs are per instrument (its unit step from its symbol).
With ``--risk-stops`` every entry also carries the stop-loss and take-profit the agent's risk
manager would set (``risk.atr_stop_multiple`` ATRs, ``risk.reward_risk``), per instrument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ffe_core.backtest.data import Bars
from ffe_core.backtest.portfolio import (
    common_clock,
    exit_counts,
    portfolio_stats,
    run_portfolio,
)
from ffe_core.backtest.simulator import FillConfig
from ffe_core.config import RiskSettings
from ffe_core.domain.errors import ValidationFailed

BAR_SUFFIXES = (".csv", ".gz", ".parquet", ".feather", ".arrow", ".json")


def data_files(paths: Sequence[Path]) -> list[Path]:
    """The bar files named: each path, or the bar files inside a folder (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in BAR_SUFFIXES)
            if not found:
                raise ValidationFailed(f"--data {p}: no bar files in the folder")
            out.extend(found)
        else:
            out.append(p)
    return out


def symbol_of(path: Path) -> str:
    """SYMBOL from SYMBOL[_interval].ext."""
    return path.name.split(".")[0]


def run(
    files: Sequence[Path],
    load: Callable[[Path], Bars],
    cost: Callable[[Path], FillConfig],
    strategy: Callable[..., Any],
    params: dict[str, Any],
    cash: float,
    risk: RiskSettings,
    warmup: int,
    protective: bool = False,
) -> dict[str, Any]:
    """Stats of the whole account and of each instrument, JSON-ready."""
    from ffe_core.backtest.stats import json_ready

    symbols = [symbol_of(f) for f in files]
    if len(set(symbols)) != len(symbols):
        raise ValidationFailed(f"--data: two files for one symbol ({', '.join(symbols)})")
    bars = common_clock([load(f) for f in files])
    try:
        targets = [_target(b, strategy, params) for b in bars]
    except TypeError as exc:
        raise ValidationFailed(f"strategy: {exc}") from None
    costs = [cost(f) for f in files]
    res = run_portfolio(symbols, bars, targets, costs, cash=cash, risk=risk, protective=protective)
    stats = portfolio_stats(res, costs, warmup=warmup)
    return {
        "portfolio": json_ready(stats["portfolio"]),
        "instruments": {s: json_ready(v) for s, v in stats["instruments"].items()},
        "trades": {s: len(t) for s, t in zip(symbols, res.trades, strict=True)},
        "exits": {s: exit_counts(t.reason) for s, t in zip(symbols, res.trades, strict=True)},
        "final_equity": float(res.equity[-1]),
        "kill_switch_bar": stats["kill_switch_bar"],
        "bars": len(bars[0]),
    }


def _target(bars: Bars, strategy: Callable[..., Any], params: dict[str, Any]) -> Any:
    return strategy(bars.open, bars.high, bars.low, bars.close, bars.volume, **params)
