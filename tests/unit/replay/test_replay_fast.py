"""The replay's batch path gives what the per-bar path gives: same trades, equity, decisions."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ffe_adapters.quant.config import TrendOptions
from ffe_adapters.quant.providers import BreakoutProvider, MeanReversionProvider, TrendProvider
from ffe_core.backtest.data import Bars, make_bars
from ffe_core.backtest.replay import ReplayResult, _target, bar_models, replay
from ffe_core.backtest.replay_fast import targets_from_actions
from ffe_core.backtest.simulator import FillConfig
from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision, ProviderVote, RiskAssessment
from ffe_core.domain.series import BarSeries, SeriesCursor
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.providers import BatchVotes, Signal
from ffe_core.services.ensemble import Ensemble
from tests.unit.replay.bars import INSTRUMENT, assert_identical_runs, goog, random_bars

CODES = {1: Action.BUY, -1: Action.SELL, 0: Action.HOLD}


class CountingTrend(TrendProvider):
    """The trend provider, counting the per-bar votes it is asked for."""

    def __init__(self, options: TrendOptions | None = None) -> None:
        super().__init__(options)
        self.calls = 0

    def vote_now(self, context: DecisionContext) -> ProviderVote:  # vote() comes through here
        self.calls += 1
        return super().vote_now(context)

    def signal(self, context: DecisionContext) -> Signal:
        self.calls += 1
        return super().signal(context)

    def signal_at(self, at: SeriesCursor, window: int) -> Signal:
        self.calls += 1
        return super().signal_at(at, window)


class Scripted:
    """Votes a fixed action per bar, per bar or in batch (contexts must hold every bar)."""

    name = "scripted"

    def __init__(self, actions: list[int], batch_differs_at: int | None = None) -> None:
        self.actions = np.array(actions, dtype=np.int8)
        self.differs = batch_differs_at

    async def vote(self, context: DecisionContext) -> ProviderVote:
        code = int(self.actions[len(context.bars) - 1])
        return ProviderVote(provider=self.name, action=CODES[code], confidence=0.8)

    def vote_batch(self, open, high, low, close, volume, history) -> BatchVotes:  # type: ignore[no-untyped-def]
        actions = self.actions.copy()
        if self.differs is not None:
            actions[self.differs] = 1 - actions[self.differs]
        n = actions.shape[0]
        return BatchVotes(actions, np.full(n, 0.8), np.zeros(n, dtype=bool))


class Broken(TrendProvider):
    def vote_batch(self, *args: object) -> BatchVotes:
        raise RuntimeError("no batch today")

    def vote_series(self, s: BarSeries) -> BatchVotes:
        raise RuntimeError("no batch today")


async def both_paths(
    bars: Bars, ensemble: Ensemble, **kw: object
) -> tuple[ReplayResult, ReplayResult]:
    fast = await replay(bars, INSTRUMENT, ensemble, **kw)  # type: ignore[arg-type]
    slow = await replay(bars, INSTRUMENT, ensemble, fast=False, **kw)  # type: ignore[arg-type]
    return fast, slow


def assert_same(fast: ReplayResult, slow: ReplayResult, *, actions: bool = True) -> None:
    assert_identical_runs(fast.run, slow.run)
    np.testing.assert_array_equal(fast.targets, slow.targets)
    if actions:
        np.testing.assert_array_equal(fast.actions, slow.actions)
    assert fast.decisions == slow.decisions


def offline(settings: EnsembleSettings, mean_reversion: bool = True) -> Ensemble:
    providers = [CountingTrend(), MeanReversionProvider(), BreakoutProvider()]
    if not mean_reversion:  # it rarely agrees with the other two
        del providers[1]
    return Ensemble({p.name: p for p in providers}, settings)


GOOG_CASES = [
    pytest.param(FillConfig(commission=0.002), False, 200, 0, id="next-open"),
    pytest.param(
        FillConfig(commission=0.001, spread=0.001, slippage=0.0005, commission_fixed=1.0),
        False,
        500,
        300,
        id="costs-long-history-late-start",
    ),
    pytest.param(
        FillConfig(commission=0.001, trade_on_close=True), True, 120, 0, id="on-close-short"
    ),
    pytest.param(FillConfig(commission=0.001, sl=0.03, tp=0.06), True, 200, 60, id="short-sl-tp"),
]


@pytest.mark.parametrize(("config", "short", "history", "start"), GOOG_CASES)
async def test_trend_on_goog_is_identical_on_both_paths(
    config: FillConfig, short: bool, history: int | None, start: int
) -> None:
    trend = CountingTrend(TrendOptions(fast=10, slow=30))
    ensemble = Ensemble({"trend": trend}, EnsembleSettings(quorum=1))
    kw = {"history": history, "start": start, "allow_short": short}
    fast = await replay(goog(), INSTRUMENT, ensemble, config, **kw)  # type: ignore[arg-type]
    assert trend.calls == 0  # decided from the batch votes alone
    slow = await replay(goog(), INSTRUMENT, ensemble, config, fast=False, **kw)  # type: ignore[arg-type]
    assert trend.calls == len(goog()) - start
    assert len(fast.run.trades) > 5
    assert_same(fast, slow)


@pytest.mark.parametrize(
    "settings",
    [
        EnsembleSettings(aggregation="confidence_weighted", quorum=2),
        EnsembleSettings(aggregation="weighted_majority", quorum=1, max_disagreement=0.4),
        EnsembleSettings(aggregation="unanimity", quorum=2),
    ],
    ids=lambda s: s.aggregation,
)
async def test_three_offline_providers_are_identical_on_both_paths(
    settings: EnsembleSettings,
) -> None:
    bars = random_bars(700, seed=21, vol=0.015)
    ensemble = offline(settings, mean_reversion=settings.aggregation != "unanimity")
    fast, slow = await both_paths(bars, ensemble, allow_short=True, history=150)
    assert ensemble.providers["trend"].calls == 700  # type: ignore[attr-defined]
    assert fast.actions.any()
    assert_same(fast, slow)


async def test_a_replay_that_goes_broke_stops_deciding_on_both_paths() -> None:
    n = 80
    close = np.r_[np.full(10, 100.0), np.linspace(100.0, 400.0, n - 10)]
    open_ = np.r_[close[0], close[:-1]]
    time = np.datetime64("2024-01-01") + np.arange(n) * np.timedelta64(1, "D")
    bars = make_bars(open_, close * 1.01, open_ * 0.99, close, np.ones(n), time)
    script = [0] * n
    script[5] = -1  # go short, then the price quadruples
    ensemble = Ensemble({"scripted": Scripted(script)}, EnsembleSettings(quorum=1))
    clock = ManualClock(bar_models(bars)[0].ts - timedelta(days=1))
    fast = await replay(bars, INSTRUMENT, ensemble, history=None, allow_short=True, clock=clock)
    fast_time = clock.now()
    clock = ManualClock(bar_models(bars)[0].ts - timedelta(days=1))
    slow = await replay(
        bars, INSTRUMENT, ensemble, history=None, allow_short=True, clock=clock, fast=False
    )
    assert fast.decisions < n and fast.run.equity[-1] == 0.0
    assert_same(fast, slow)
    assert fast_time == clock.now() == bar_models(bars)[fast.decisions - 1].ts


async def test_risk_checks_are_consulted_where_the_target_would_move() -> None:
    bars = random_bars(600, seed=8, vol=0.015)
    calls: list[int] = []
    seen: list[dict[object, DecisionContext]] = [{}, {}]

    async def cautious(decision: Decision, context: DecisionContext) -> Decision:
        # Memoryless: rejects weak entries and any SELL while flat.
        calls.append(len(context.bars))
        seen[len(calls) > consulted][context.as_of] = context
        weak = decision.action is Action.BUY and decision.confidence < 0.7
        pointless = decision.action is Action.SELL and context.position.is_flat
        verdict = RiskAssessment(approved=not (weak or pointless), reason="rules")
        return decision.model_copy(update={"risk": verdict})

    ensemble = offline(EnsembleSettings(aggregation="confidence_weighted", quorum=2))
    kw = {"risk": cautious, "history": 150, "allow_short": True}
    consulted = 10**9
    fast = await replay(bars, INSTRUMENT, ensemble, fast=True, **kw)  # type: ignore[arg-type]
    consulted = len(calls)
    slow = await replay(bars, INSTRUMENT, ensemble, fast=False, **kw)  # type: ignore[arg-type]
    assert 0 < consulted < len(calls) - consulted == 600
    for as_of, context in seen[0].items():  # what the risk check saw, as the per-bar path shows it
        assert context == seen[1][as_of]
    assert_same(fast, slow, actions=False)  # unconsulted bars report the ensemble's action
    assert len(fast.run.trades) > 0
    rejected = (fast.actions != slow.actions).sum()
    assert rejected > 0 and (slow.actions[fast.actions != slow.actions] == 0).all()

    async def reject_all(decision: Decision, context: DecisionContext) -> Decision:
        return decision.model_copy(update={"risk": RiskAssessment(approved=False, reason="x")})

    kw["risk"] = reject_all
    none = await replay(bars, INSTRUMENT, ensemble, fast=True, **kw)  # type: ignore[arg-type]
    assert len(none.run.trades) == 0 and not none.targets.any()


async def test_a_risk_check_alone_keeps_the_per_bar_path() -> None:
    bars = random_bars(120, seed=2)
    trend = CountingTrend()
    ensemble = Ensemble({"trend": trend}, EnsembleSettings(quorum=1))

    async def approve(decision: Decision, context: DecisionContext) -> Decision:
        return decision

    await replay(bars, INSTRUMENT, ensemble, risk=approve)
    assert trend.calls == 120


async def test_a_batch_that_disagrees_with_vote_is_caught() -> None:
    bars = random_bars(60, seed=3)
    script = [0] * 60
    script[20] = 1
    ensemble = Ensemble({"s": Scripted(script, batch_differs_at=10)}, EnsembleSettings(quorum=1))

    async def approve(decision: Decision, context: DecisionContext) -> Decision:
        return decision

    with pytest.raises(RuntimeError, match="bar 10"):
        await replay(bars, INSTRUMENT, ensemble, risk=approve, history=None, fast=True)


@pytest.mark.parametrize(
    "why", ["judge", "on_decision", "plain provider", "batch fails", "weights"]
)
async def test_the_per_bar_path_runs_where_the_batch_cannot_match_it(why: str) -> None:
    bars = random_bars(150, seed=4)
    trend = CountingTrend(TrendOptions(fast=5, slow=15))
    settings = EnsembleSettings(quorum=1)
    providers: dict[str, object] = {"trend": trend}
    kw: dict[str, object] = {"history": 50}
    ensemble_kw: dict[str, object] = {}
    if why == "judge":
        settings = EnsembleSettings(quorum=1, aggregation="judge")
    elif why == "on_decision":

        async def record(i: int, decision: Decision) -> None:
            pass

        kw["on_decision"] = record
    elif why == "plain provider":

        class Plain:
            name = "plain"

            async def vote(self, context: DecisionContext) -> ProviderVote:
                return ProviderVote(provider=self.name, confidence=0.1)

        providers["plain"] = Plain()
    elif why == "batch fails":
        providers["broken"] = Broken()
    else:

        class Fixed:
            async def weights(self, names: list[str]) -> dict[str, float]:
                return {"trend": 2.0}

        ensemble_kw["weights"] = Fixed()
    ensemble = Ensemble(providers, settings, **ensemble_kw)  # type: ignore[arg-type]
    got = await replay(bars, INSTRUMENT, ensemble, **kw)  # type: ignore[arg-type]
    assert trend.calls == 150
    if why == "weights":  # constant weights: the caller may vouch for them
        fast = await replay(bars, INSTRUMENT, ensemble, fast=True, **kw)  # type: ignore[arg-type]
        assert trend.calls == 150
        assert_same(fast, got)


def test_targets_follow_the_actions_like_the_replay_loop() -> None:
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 40))
        actions = rng.choice(np.array([-1, 0, 0, 1], dtype=np.int8), n)
        start, short = int(rng.integers(0, n)), bool(trial % 2)
        want, target = [], 0
        for i in range(n):
            if i >= start:
                target = _target(CODES[int(actions[i])], target, short)
            want.append(target)
        np.testing.assert_array_equal(targets_from_actions(actions, start, short), want)
