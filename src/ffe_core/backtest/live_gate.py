"""The gate before live trading: a walk-forward replay of the configured stack, and whether it
passes the configured limits.

The replay is walk-forward by construction (each decision sees only the past, learned weights
move only on matured votes), so the report splits the decided bars into an in-sample warm-up
(``IN_SAMPLE``) and the out-of-sample rest. The candidates PBO compares are what the stack could
have been instead: the ensemble, each provider alone and the quant baseline; the deflated Sharpe
is the ensemble's out-of-sample Sharpe against the best of those candidates expected from luck.
Several instruments on one account are judged as the account: each candidate's runs are summed
on the instruments' union timeline, as the replay's account is. A report replayed with
look-ahead allowed (a language model saw bars before its training cut-off) never passes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from ffe_core.backtest.attribution import solo_run
from ffe_core.backtest.data import Bars
from ffe_core.backtest.overfitting import deflated_sharpe, moments, pbo_cscv
from ffe_core.backtest.replay_stack import SleeveResult, account_run
from ffe_core.backtest.simulator import FloatArray, RunResult
from ffe_core.backtest.stats import compute_stats
from ffe_core.backtest.walk_forward import chunk_returns
from ffe_core.config import LiveGateSettings, Settings
from ffe_core.domain.errors import ValidationFailed

IN_SAMPLE = 0.4
"""Share of the decided bars counted as in-sample warm-up (the learning service's weights form)."""
N_SPLITS = 8
PERIODS = N_SPLITS * 8
MIN_DECIDED_BARS = math.ceil(PERIODS / (1 - IN_SAMPLE))
"""The fewest decided bars a walk-forward report can be computed from."""


def stack_fingerprint(settings: Settings) -> str:
    """A hash of what the gate vouches for: providers, ensemble, risk limits and trading costs."""
    parts = {
        "providers": list(settings.providers.enabled),
        "ensemble": settings.ensemble.model_dump(mode="json"),
        "risk": settings.risk.model_dump(mode="json"),
        "trading": settings.trading.model_dump(
            mode="json", include={"commission", "slippage", "spread", "min_order_notional"}
        ),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _bar_returns(equity: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return equity[1:] / equity[:-1] - 1.0


def _clean(x: float) -> float | None:
    return round(float(x), 6) if math.isfinite(x) else None


def _candidates(results: Sequence[SleeveResult], settings: Settings) -> list[list[SleeveResult]]:
    """Per candidate (the ensemble, then each provider alone), every instrument's result with
    that candidate's run in place of the ensemble's."""
    names = None
    for r in results:
        if r.result.votes is None:
            raise ValidationFailed("--walk-forward needs the replay's votes")
        if names is not None and r.result.votes.names != names:
            raise ValidationFailed("--walk-forward: every instrument needs the same providers")
        names = r.result.votes.names
    assert names is not None
    out = [list(results)]
    for p in range(len(names)):
        solo = []
        for r in results:
            votes, sleeve = r.result.votes, r.sleeve
            assert votes is not None
            run = solo_run(
                sleeve.bars, votes.actions[p], sleeve.start, settings.risk.allow_short, r.config
            )
            solo.append(replace(r, result=replace(r.result, run=run)))
        out.append(solo)
    return out


def _account_start(results: Sequence[SleeveResult], market: Bars) -> int:
    """The account's first decided bar on its timeline (the first any instrument decides)."""
    if len(results) == 1:
        return results[0].sleeve.start
    assert market.time is not None
    first = min(
        r.sleeve.bars.time[r.sleeve.start] for r in results if r.sleeve.bars.time is not None
    )
    return int(np.searchsorted(market.time, first))


def gate_report(
    results: Sequence[SleeveResult], settings: Settings, now: datetime, *, contaminated: bool
) -> dict[str, Any]:
    """The walk-forward figures of one account (see the module docstring): one instrument, or
    several sharing the account, each candidate's run summed over them on one timeline."""
    if not results:
        raise ValidationFailed("--walk-forward needs at least one instrument")
    candidates: list[RunResult] = []
    market: Bars | None = None
    for sleeves in _candidates(results, settings):
        run, bars = account_run(sleeves)
        candidates.append(run)
        market = market or bars
    assert market is not None
    run, bars, start = candidates[0], market, _account_start(results, market)
    split = start + int((len(bars) - start) * IN_SAMPLE)
    if len(bars) - split < PERIODS:
        raise ValidationFailed(
            f"--walk-forward: {len(bars) - start} decided bars are too few "
            f"(at least {MIN_DECIDED_BARS})"
        )
    columns = [chunk_returns(c.equity[start:], PERIODS) for c in candidates]
    pbo = pbo_cscv(np.column_stack(columns), N_SPLITS).pbo if len(candidates) >= 2 else math.nan
    oos = run.equity[split - 1 :]
    sr, skew, kurt, n_obs = moments(_bar_returns(oos))
    srs = np.array([moments(_bar_returns(c.equity[start:]))[0] for c in candidates])
    srs = srs[np.isfinite(srs)]
    dsr = math.nan
    if math.isfinite(sr) and srs.size >= 2:
        dsr = deflated_sharpe(
            sr,
            n_obs,
            sr_variance=float(srs.var(ddof=1)),
            n_trials=len(candidates),
            skew=skew,
            kurtosis=kurt,
        )
    stats = compute_stats(run, bars)
    symbols = [r.sleeve.instrument.symbol for r in results]
    votes = results[0].result.votes
    assert votes is not None
    return {
        "created_at": now.isoformat(),
        "stack": stack_fingerprint(settings),
        "instrument": ", ".join(symbols),
        "instruments": symbols,
        "bars": len(bars) - start,
        "out_of_sample_bars": len(bars) - split,
        "candidates": ["ensemble", *votes.names],
        "contaminated": contaminated,
        "pbo": _clean(pbo),
        "deflated_sharpe": _clean(dsr),
        "oos_return_pct": _clean((oos[-1] / oos[0] - 1.0) * 100),
        "max_drawdown_pct": _clean(abs(float(stats["Max. Drawdown [%]"]))),
    }


def failures(report: dict[str, Any] | None, settings: Settings, now: datetime) -> list[str]:
    """Why ``report`` does not let the configured stack trade live (empty: it does)."""
    gate: LiveGateSettings = settings.live_gate
    if report is None:
        return [f"no walk-forward report at {gate.report_path} (run ffe replay --walk-forward)"]
    out = []
    try:
        age = now - datetime.fromisoformat(str(report.get("created_at")))
    except (TypeError, ValueError):  # unreadable, or a date without a time zone
        out.append("report has no readable created_at (run ffe replay --walk-forward again)")
    else:
        if age > timedelta(days=gate.max_age_days):
            days = gate.max_age_days
            out.append(f"report is {age.days} days old (live_gate.max_age_days {days:g})")
    contaminated = report.get("contaminated")
    if contaminated is True:
        out.append("report is contaminated (a language model replayed bars before its cut-off)")
    elif contaminated is not False:
        out.append("report does not record look-ahead (run ffe replay --walk-forward again)")
    if report.get("stack") != stack_fingerprint(settings):
        out.append("report is for another stack (providers, ensemble, risk or costs changed)")
    limit_dd = gate.max_drawdown_pct or settings.risk.max_drawdown * 100
    pbo, dsr = _number(report.get("pbo")), _number(report.get("deflated_sharpe"))
    oos, dd = _number(report.get("oos_return_pct")), _number(report.get("max_drawdown_pct"))
    checks: tuple[tuple[str, float | None, bool, str], ...] = (
        ("pbo", pbo, pbo is not None and pbo <= gate.max_pbo, f"<= {gate.max_pbo:g}"),
        (
            "deflated Sharpe",
            dsr,
            dsr is not None and dsr >= gate.min_deflated_sharpe,
            f">= {gate.min_deflated_sharpe:g}",
        ),
        (
            "out-of-sample return",
            oos,
            oos is not None and oos > gate.min_oos_return_pct,
            f"> {gate.min_oos_return_pct:g}%",
        ),
        ("max drawdown", dd, dd is not None and dd <= limit_dd, f"<= {limit_dd:g}%"),
    )
    for name, value, passed, need in checks:
        if not passed:
            shown = "undefined" if value is None else f"{float(value):g}"
            out.append(f"{name} {shown} (needs {need})")
    return out


def _number(value: Any) -> float | None:
    """A finite number from the report, else None (a criterion it cannot pass)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def summary(reasons: Sequence[str]) -> str:
    """One line for start-up: the failing criteria."""
    return "live trading refused by the live gate: " + "; ".join(reasons)
