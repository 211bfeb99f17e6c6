"""The per-bar replay's fast paths decide exactly as the awaiting path with window indicators.

Reference ("today's path"): every provider behind an async-only wrapper that hides the series
cursor, so the ensemble gathers awaited votes and each provider recomputes its indicators over
the context's window. Against it: the synchronous path on full decisions (``on_decision`` set),
the signals path on contexts (providers that need one), and the signals path from the series
(no context built). Same decisions, votes, trades and equity, on several seeded cases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from ffe_adapters.quant.config import BreakoutOptions, TrendOptions
from ffe_adapters.quant.providers import BreakoutProvider, MeanReversionProvider, TrendProvider
from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.backtest.replay import ReplayResult, replay
from ffe_core.backtest.simulator import FillConfig
from ffe_core.config import Budget, BudgetSettings, CostSettings, EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Decision, ProviderVote
from ffe_core.domain.flight import ProviderSpec
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.providers import (
    CallPlan,
    FixedPlanProvider,
    SeriesSignalProvider,
    Signal,
    SyncDecisionProvider,
)
from ffe_core.services.costs import CostLedger
from ffe_core.services.ensemble import Ensemble
from tests.unit.replay.bars import INSTRUMENT, assert_identical_runs, random_bars

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


class Awaiting:
    """Today's path: an async-only provider computing its indicators on the window."""

    def __init__(self, inner: TrendProvider | MeanReversionProvider | BreakoutProvider) -> None:
        self.inner, self.name = inner, inner.name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return await self.inner.vote(context.model_copy(update={"series": None}))


class ContextOnly:
    """Synchronous, but not a series provider: the replay must build its contexts."""

    def __init__(self, inner: TrendProvider | MeanReversionProvider | BreakoutProvider) -> None:
        self.inner, self.name = inner, inner.name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return self.inner.vote_now(context)

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        return self.inner.vote_now(context)

    def signal(self, context: DecisionContext) -> Signal:
        return self.inner.signal(context)


class PricedRules(ContextOnly):
    """Synchronous and described, but each call is priced: the ledger must see it."""

    def fixed_plan(self) -> CallPlan:
        return CallPlan(ProviderSpec(provider=self.name, model="m", input_usd_per_mtok=1.0))

    def call_plan(self, context: DecisionContext) -> CallPlan:
        return self.fixed_plan()


def offline() -> list[Any]:
    return [
        TrendProvider(TrendOptions(fast=8, slow=21)),
        MeanReversionProvider(),
        BreakoutProvider(BreakoutOptions(lookback=10)),
    ]


CASES = [
    pytest.param((1, 400, 120, 0, False, "weighted_majority", 2), id="wm-h120"),
    pytest.param((2, 350, None, 30, True, "confidence_weighted", 1), id="cw-unbounded-short"),
    pytest.param((3, 300, 60, 80, True, "unanimity", 2), id="unanimity-late-start"),
    pytest.param((4, 500, 200, 0, False, "weighted_majority", 3), id="wm-quorum-3"),
]


async def run(
    providers: list[Any], case: tuple[Any, ...], *, decisions: list[Decision] | None = None
) -> ReplayResult:
    seed, n, history, start, short, aggregation, quorum = case
    if aggregation == "unanimity":  # trend and breakout agree now and then; a fader never does
        providers = [p for p in providers if p.name != "mean_reversion"]
    settings = EnsembleSettings(aggregation=aggregation, quorum=quorum, max_disagreement=0.5)
    ensemble = Ensemble({p.name: p for p in providers}, settings)
    on_decision = None
    if decisions is not None:
        seen = decisions

        async def on_decision(i: int, decision: Decision) -> None:
            seen.append(decision)

    return await replay(
        random_bars(n, seed, 0.02),
        INSTRUMENT,
        ensemble,
        FillConfig(commission=0.001, sl=0.04),
        history=history,
        start=start,
        allow_short=short,
        with_indicators=False,
        fast=False,
        record_votes=True,
        on_decision=on_decision,
    )


def assert_same_replay(got: ReplayResult, want: ReplayResult) -> None:
    assert_identical_runs(got.run, want.run)
    np.testing.assert_array_equal(got.actions, want.actions)
    np.testing.assert_array_equal(got.targets, want.targets)
    assert got.decisions == want.decisions
    assert got.votes is not None and want.votes is not None
    for field in ("actions", "confidences", "abstained", "asked", "ensemble_action"):
        np.testing.assert_array_equal(getattr(got.votes, field), getattr(want.votes, field))
    np.testing.assert_array_equal(got.votes.ensemble_confidence, want.votes.ensemble_confidence)


def comparable(decision: Decision) -> tuple[Any, ...]:
    """A decision without what differs between runs by nature (id, timings, latencies)."""
    votes = tuple(v.model_dump(exclude={"latency_ms"}) for v in decision.votes)
    return decision.model_dump(exclude={"id", "timings_ms", "votes"}), votes


@pytest.mark.parametrize("case", CASES)
async def test_every_per_bar_path_decides_as_the_awaiting_path(case: tuple[Any, ...]) -> None:
    reference_decisions: list[Decision] = []
    reference = await run([Awaiting(p) for p in offline()], case, decisions=reference_decisions)
    assert reference.run.trades.size.shape[0] > 0  # the case trades, so equity can differ

    full: list[Decision] = []
    synchronous = await run(offline(), case, decisions=full)
    assert_same_replay(synchronous, reference)
    assert [comparable(d) for d in full] == [comparable(d) for d in reference_decisions]

    on_contexts = await run([ContextOnly(p) for p in offline()], case)
    assert_same_replay(on_contexts, reference)

    from_series = await run(offline(), case)
    assert_same_replay(from_series, reference)


def test_the_wrappers_take_the_paths_they_stand_for() -> None:
    trend = TrendProvider()
    assert isinstance(trend, SeriesSignalProvider)
    assert isinstance(ContextOnly(trend), SyncDecisionProvider)
    assert not isinstance(ContextOnly(trend), SeriesSignalProvider)
    assert not isinstance(Awaiting(trend), SyncDecisionProvider)
    settings = EnsembleSettings()
    assert Ensemble({"t": Awaiting(trend)}, settings).synchronous() is None
    via_contexts = Ensemble({"t": ContextOnly(trend)}, settings).synchronous()
    assert via_contexts is not None and not via_contexts.from_series
    via_series = Ensemble({"t": trend}, settings).synchronous()
    assert via_series is not None and via_series.from_series


def test_a_budget_or_a_price_keeps_the_ensemble_on_the_awaiting_path() -> None:
    """With a cost ledger, the synchronous path (which neither asks the ledger nor records in
    it) is taken only when no budget can hold a provider and none is priced."""
    settings = EnsembleSettings()

    def ledger(**providers: Budget) -> CostLedger:
        budgets = BudgetSettings(daily_usd=1.0, providers=providers)
        return CostLedger(CostSettings(budgets=budgets), InMemoryStore(), ManualClock(T0))

    providers = {p.name: p for p in offline()}
    assert all(isinstance(p, FixedPlanProvider) for p in providers.values())
    free = Ensemble(providers, settings, costs=ledger())
    assert free.synchronous() is not None  # the overall budget holds priced providers only
    own = ledger(trend=Budget(daily_usd=0.5))
    assert Ensemble(providers, settings, costs=own).synchronous() is None
    trend = TrendProvider()
    undescribed = Ensemble({"t": ContextOnly(trend)}, settings, costs=ledger())
    assert undescribed.synchronous() is None  # undescribed counts as priced
    assert Ensemble({"t": ContextOnly(trend)}, settings).synchronous() is not None
    assert Ensemble({"t": PricedRules(trend)}, settings, costs=ledger()).synchronous() is None


class Counted(ContextOnly):
    """ContextOnly counting the full votes it was asked for (the signals path asks none)."""

    def __init__(self, inner: TrendProvider | MeanReversionProvider | BreakoutProvider) -> None:
        super().__init__(inner)
        self.votes = 0

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        self.votes += 1
        return super().vote_now(context)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("awaiting", [1, 2], ids=["one-awaits", "two-await"])
async def test_signals_with_awaiting_providers_decide_as_the_awaiting_path(
    case: tuple[Any, ...], awaiting: int
) -> None:
    """Some providers await (a language model on its vote cache): the replay asks the others
    for signals only and awaits those, without votes or a Decision, and decides the same."""
    reference = await run([Awaiting(p) for p in offline()], case, decisions=[])
    first = offline()
    mixed: list[Any] = [Awaiting(p) for p in first[:awaiting]]
    counted = [Counted(p) for p in first[awaiting:2]]
    mixed += [*counted, *first[2:]]
    order = {p.name: k for k, p in enumerate(first)}
    mixed.sort(key=lambda p: order[p.name])  # the ensemble's order, as the reference's
    got = await run(mixed, case)
    assert_same_replay(got, reference)
    assert all(c.votes == 0 for c in counted)  # the signals path was taken


def test_the_signals_path_needs_what_the_synchronous_one_needs() -> None:
    settings = EnsembleSettings()
    trend = TrendProvider()
    assert Ensemble({"t": Awaiting(trend), "b": BreakoutProvider()}, settings).signalling()
    ledger = CostLedger(CostSettings(), InMemoryStore(), ManualClock(T0))
    assert Ensemble({"t": Awaiting(trend)}, settings, costs=ledger).signalling() is None
    judged = EnsembleSettings(aggregation="judge")
    assert Ensemble({"t": Awaiting(trend)}, judged).signalling() is None
