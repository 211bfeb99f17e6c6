"""Replay the decision stack as configured: one account, one or several instruments.

Each instrument is a sleeve of the account with an equal share of ``trading.initial_cash``,
its own risk manager under the agent's limits (confidence, drawdown and daily loss, shorting)
and the live fill costs (commission, slippage, half the spread); a position takes at most
``risk.max_position_fraction`` of the sleeve. What the live path adds after the risk check is
simulated too: an entry below ``trading.min_order_notional`` is not sent (the execution gate's
floor), and a decision the approvals policy would hold for a person is either approved
automatically or skipped. The account's equity is the sum of its sleeves on the union of their
timestamps; its buy-and-hold benchmark an equal-weight basket of the instruments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from ffe_core.backtest.attribution import attribution, horizon_in_bars
from ffe_core.backtest.data import Bars
from ffe_core.backtest.replay import ReplayResult, replay
from ffe_core.backtest.replay_cost import SpendMeter
from ffe_core.backtest.simulator import FillConfig, RunResult, Trades
from ffe_core.backtest.stats import compute_stats
from ffe_core.backtest.vote_log import ACTION_CODE
from ffe_core.config import Settings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision, RiskAssessment
from ffe_core.domain.instruments import Instrument
from ffe_core.services.approvals import approval_required
from ffe_core.services.decisions import RiskCheck
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.risk import RiskManager

ApprovalMode = Literal["auto", "skip"]


@dataclass(frozen=True)
class Sleeve:
    """One instrument of the replay: its bars and the first bar to decide on."""

    instrument: Instrument
    bars: Bars
    start: int = 0


@dataclass(frozen=True)
class SleeveResult:
    sleeve: Sleeve
    config: FillConfig
    result: ReplayResult
    attribution: dict[str, Any]


def fill_config(settings: Settings, instrument: Instrument, cash: float) -> FillConfig:
    """The backtester's fill model with the live trading costs and the agent's position cap."""
    t = settings.trading
    step = float(instrument.size_increment)
    return FillConfig(
        cash=cash,
        commission=float(t.commission),
        slippage=float(t.slippage),
        spread=float(t.spread),
        size=min(1.0, settings.risk.max_position_fraction),
        unit_step=step if step >= 1.0 else 0.0,
    )


def _reject(decision: Decision, reason: str) -> Decision:
    assert decision.risk is not None
    risk = RiskAssessment(approved=False, reason=reason, checks=decision.risk.checks)
    return decision.model_copy(update={"risk": risk, "suggested_size": Decimal(0)})


def live_rules(settings: Settings, risk: RiskManager, approvals: ApprovalMode) -> RiskCheck:
    """The risk manager, then the gate's notional floor and the approvals policy, as a check."""
    floor = settings.trading.min_order_notional

    async def check(decision: Decision, context: DecisionContext) -> Decision:
        checked = risk.assess(decision, context)
        verdict = checked.risk
        if checked.action is Action.HOLD or verdict is None or not verdict.approved:
            return checked
        held = context.position.quantity
        entry = held == 0 or (held > 0) == (checked.action is Action.BUY)
        notional = verdict.notional
        if entry and notional is not None and notional < floor:
            return _reject(checked, f"entry {notional:.2f} below trading.min_order_notional")
        if approvals == "skip" and approval_required(settings.approvals, notional):
            return _reject(checked, "needs a person's approval: skipped in the replay")
        return checked

    return check


async def replay_sleeve(
    sleeve: Sleeve,
    ensemble: Ensemble,
    settings: Settings,
    cash: float,
    *,
    approvals: ApprovalMode = "auto",
    meter: SpendMeter | None = None,
    baseline: Ensemble | None = None,
    progress: Callable[[int], None] | None = None,
) -> SleeveResult:
    """One instrument's replay with its risk manager, fills and attribution."""
    cfg = fill_config(settings, sleeve.instrument, cash)
    risk = RiskManager(settings.risk, fee_rate=settings.trading.fee_rate)
    allow_short = settings.risk.allow_short
    on_decision = None
    if meter is not None or progress is not None:

        async def on_decision(i: int, decision: Decision) -> None:
            if meter is not None:
                meter.check()
            if progress is not None:
                progress(1)

    result = await replay(
        sleeve.bars,
        sleeve.instrument,
        ensemble,
        cfg,
        risk=live_rules(settings, risk, approvals),
        history=settings.market_data.history_bars,
        start=sleeve.start,
        allow_short=allow_short,
        on_decision=on_decision,
        record_votes=True,
    )
    base_run = None
    if baseline is not None:
        base = await replay(
            sleeve.bars,
            sleeve.instrument,
            baseline,
            cfg,
            history=settings.market_data.history_bars,
            start=sleeve.start,
            allow_short=allow_short,
        )
        base_run = base.run
    assert result.votes is not None
    horizon = horizon_in_bars(settings.learning.learning_horizon, sleeve.bars.time)
    table = attribution(
        sleeve.bars,
        result.run,
        result.votes,
        cfg,
        start=sleeve.start,
        allow_short=allow_short,
        learning=settings.learning,
        horizon=horizon,
        baseline=base_run,
    )
    return SleeveResult(sleeve, cfg, result, table)


def decision_counts(results: Sequence[SleeveResult]) -> dict[str, int]:
    """Decisions by final action (after the risk check and the live rules)."""
    names = {code: action.value for action, code in ACTION_CODE.items()}
    counts: Counter[str] = Counter()
    for r in results:
        assert r.result.votes is not None
        asked = r.result.actions[r.result.votes.asked]
        counts.update(names[int(c)] for c in asked)
    return {a.value: counts.get(a.value, 0) for a in Action} | {"total": sum(counts.values())}


def _union_times(results: Sequence[SleeveResult]) -> np.ndarray:
    times = [r.sleeve.bars.time for r in results]
    if any(t is None for t in times):
        raise ValueError("several instruments need timestamps to share one account")
    return np.unique(np.concatenate([t for t in times if t is not None]))


def account_run(results: Sequence[SleeveResult]) -> tuple[RunResult, Bars]:
    """The account: its sleeves' equity summed on their union timeline, their trades on it,
    and an equal-weight basket of the instruments as its market."""
    if len(results) == 1:
        only = results[0]
        return only.result.run, only.sleeve.bars
    union = _union_times(results)
    n = union.shape[0]
    equity = np.zeros(n)
    basket = np.zeros(n)
    parts: list[Trades] = []
    for r in results:
        bars = r.sleeve.bars
        assert bars.time is not None
        at = np.searchsorted(union, bars.time)
        held = np.searchsorted(bars.time, union, side="right") - 1  # last bar at or before
        before = held < 0
        idx = np.maximum(held, 0)
        equity += np.where(before, r.config.cash, r.result.run.equity[idx])
        norm = bars.close / bars.close[0]
        basket += np.where(before, 1.0, norm[idx])
        t = r.result.run.trades
        parts.append(
            Trades(
                t.size,
                at[t.entry_bar],
                at[t.exit_bar],
                t.entry_price,
                t.exit_price,
                t.sl,
                t.tp,
                t.commission,
                t.reason,
            )
        )
    merged = Trades(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Trades.__dataclass_fields__)
    )
    basket /= len(results)
    market = Bars(basket, basket, basket, basket, np.full(n, np.nan), union)
    cfg = results[0].config
    return RunResult(merged, equity, cfg), market


def account_stats(results: Sequence[SleeveResult]) -> tuple[dict[str, Any], RunResult, Bars]:
    """``compute_stats`` of the account, with its run and market bars (for a report)."""
    run, market = account_run(results)
    return compute_stats(run, market), run, market
