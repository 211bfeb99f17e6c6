"""The ensemble: aggregation modes, quorum and disagreement rules, records, fault injection."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.ports.metrics import Metrics
from ffe_core.ports.providers import DecisionProvider, Signal, WeightSource
from ffe_core.services.ensemble import Ensemble
from tests.unit.ensemble.fakes import (
    Fixed,
    Garbage,
    Raises,
    RecordingMetrics,
    Sleeper,
    Weights,
    context,
)

BUY, SELL, HOLD = Action.BUY, Action.SELL, Action.HOLD


def settings(
    mode: str = "weighted_majority",
    quorum: int = 1,
    disagreement: float = 0.5,
    deadline: float = 45.0,
) -> EnsembleSettings:
    return EnsembleSettings.model_validate(
        {
            "aggregation": mode,
            "quorum": quorum,
            "max_disagreement": disagreement,
            "deadline_seconds": deadline,
        }
    )


def ensemble(
    *providers: DecisionProvider,
    cfg: EnsembleSettings | None = None,
    weights: WeightSource | None = None,
    judge: DecisionProvider | None = None,
    metrics: Metrics | None = None,
    provider_timeout: float = 30.0,
) -> Ensemble:
    return Ensemble(
        {p.name: p for p in providers},
        cfg or settings(),
        provider_timeout=provider_timeout,
        weights=weights,
        judge=judge,
        metrics=metrics,
    )


async def test_weighted_majority_counts_one_vote_per_provider() -> None:
    ens = ensemble(Fixed("a", BUY, 0.8), Fixed("b", BUY, 0.6), Fixed("c", SELL, 0.9))
    d = await ens.decide(context())
    assert d.action is BUY
    assert d.aggregation == "weighted_majority"
    assert d.confidence == pytest.approx((0.8 + 0.6) / 3, abs=1e-6)
    assert "BUY 67%, SELL 33%" in d.reasoning and "Strongest case, a" in d.reasoning


async def test_weights_from_the_weight_source_are_applied_and_recorded() -> None:
    weights = Weights(c=3.0)
    ens = ensemble(
        Fixed("a", BUY, 0.8), Fixed("b", BUY, 0.6), Fixed("c", SELL, 0.9), weights=weights
    )
    d = await ens.decide(context())
    assert d.action is SELL  # 3 against 2
    assert d.weights == {"a": 1.0, "b": 1.0, "c": 3.0}
    assert d.confidence == pytest.approx(3 * 0.9 / 5, abs=1e-6)
    assert weights.asked == [["a", "b", "c"]]


async def test_confidence_weighted_lets_one_strong_vote_beat_two_weak_ones() -> None:
    providers = (Fixed("a", BUY, 0.9), Fixed("b", SELL, 0.3), Fixed("c", SELL, 0.3))
    majority = await ensemble(*providers).decide(context())
    weighted = await ensemble(*providers, cfg=settings("confidence_weighted")).decide(context())
    assert majority.action is SELL
    assert weighted.action is BUY
    assert weighted.confidence == pytest.approx(0.9 / 1.5, abs=1e-6)


async def test_unanimity_requires_every_counted_vote_to_agree() -> None:
    agree = ensemble(
        Fixed("a", BUY, 0.6), Fixed("b", BUY, 0.8), Raises(), cfg=settings("unanimity")
    )
    d = await agree.decide(context())
    assert d.action is BUY and d.confidence == pytest.approx(0.7)
    assert "All 2 providers agree" in d.reasoning and "raises abstained" in d.reasoning

    split = ensemble(Fixed("a", BUY, 0.6), Fixed("b", SELL, 0.8), cfg=settings("unanimity"))
    d = await split.decide(context())
    assert d.action is HOLD and d.confidence == 0.0
    assert d.reasoning.startswith("HOLD: no unanimity (a BUY, b SELL)")


async def test_judge_weighs_the_counted_votes_and_decides() -> None:
    judge = Fixed("judge", SELL, 0.7)
    ens = ensemble(
        Fixed("a", BUY, 0.8), Fixed("b", BUY, 0.6), Raises(), cfg=settings("judge"), judge=judge
    )
    d = await ens.decide(context())
    assert d.action is SELL and d.confidence == 0.7 and d.aggregation == "judge"
    assert d.reasoning.startswith("Judge judge: judge says SELL")
    assert judge.last_context is not None
    assert [v.provider for v in judge.last_context.peer_votes] == ["a", "b"]


@pytest.mark.parametrize(
    "judge", [None, Raises("judge"), Sleeper("judge")], ids=["no-judge", "raises", "times-out"]
)
async def test_judge_unavailable_falls_back_to_weighted_majority(
    judge: DecisionProvider | None,
) -> None:
    ens = ensemble(
        Fixed("a", BUY, 0.8),
        Fixed("b", BUY, 0.6),
        Fixed("c", SELL, 0.9),
        cfg=settings("judge"),
        judge=judge,
        provider_timeout=0.05,
    )
    d = await ens.decide(context())
    assert d.action is BUY and d.aggregation == "weighted_majority"
    assert "judge unavailable; fell back to weighted majority" in d.reasoning


async def test_quorum_not_met_yields_hold_with_the_reason() -> None:
    ens = ensemble(Fixed("a", BUY, 0.9), Fixed("b", BUY, 0.9), Raises(), cfg=settings(quorum=3))
    d = await ens.decide(context())
    assert d.action is HOLD and d.confidence == 0.0
    assert "quorum not met, 2 of 3 providers answered (need 3)" in d.reasoning
    assert "raises abstained (ConnectionError: provider unreachable)" in d.reasoning


async def test_disagreement_beyond_the_threshold_yields_hold_with_the_reason() -> None:
    providers = (Fixed("a", BUY, 0.9), Fixed("b", SELL, 0.9), Fixed("c", BUY, 0.9))
    tolerant = await ensemble(*providers, cfg=settings(disagreement=0.4)).decide(context())
    strict = await ensemble(*providers, cfg=settings(disagreement=0.2)).decide(context())
    assert tolerant.action is BUY
    assert strict.action is HOLD
    assert "providers disagree too much" in strict.reasoning
    assert "33% against BUY, limit 20%" in strict.reasoning


async def test_a_tie_yields_hold() -> None:
    d = await ensemble(Fixed("a", BUY, 0.9), Fixed("b", SELL, 0.9)).decide(context())
    assert d.action is HOLD and "tie between BUY, SELL" in d.reasoning


async def test_all_zero_weights_yield_hold() -> None:
    ens = ensemble(Fixed("a", BUY, 0.9), weights=Weights(a=0.0))
    d = await ens.decide(context())
    assert d.action is HOLD and "zero weight" in d.reasoning


async def test_every_vote_weight_latency_and_abstention_is_recorded() -> None:
    metrics = RecordingMetrics()
    ens = ensemble(
        Fixed("slow", BUY, 0.8, delay=0.05), Fixed("fast", BUY, 0.6), Raises(), metrics=metrics
    )
    d = await ens.decide(context())
    assert [v.provider for v in d.votes] == ["slow", "fast", "raises"]
    slow, fast, bad = d.votes
    assert slow.latency_ms >= 45 and fast.latency_ms < slow.latency_ms
    assert not slow.abstained and slow.reasoning == "slow says BUY"
    assert bad.abstained and bad.abstain_reason == "ConnectionError: provider unreachable"
    assert d.weights == {"slow": 1.0, "fast": 1.0, "raises": 1.0}
    assert set(d.timings_ms) == {"providers", "aggregate"} and d.timings_ms["providers"] >= 45
    assert [c[:2] for c in metrics.calls] == [
        ("slow", "ok"),
        ("fast", "ok"),
        ("raises", "abstained"),
    ]
    assert [a for a, _ in metrics.decisions] == ["BUY"]
    assert d.counted_votes == (slow, fast)


async def test_fault_injection_decides_from_the_rest_when_the_quorum_allows() -> None:
    providers = (Fixed("good", BUY, 0.8), Sleeper(), Garbage(), Raises())
    ens = ensemble(*providers, provider_timeout=0.2, cfg=settings(quorum=1))
    start = time.perf_counter()
    d = await ens.decide(context())
    assert time.perf_counter() - start < 2.0  # the sleeper did not hold the decision up
    assert d.action is BUY and d.confidence == pytest.approx(0.8 / 1, abs=1e-6)
    reasons = {v.provider: v.abstain_reason for v in d.votes if v.abstained}
    assert reasons == {
        "sleeper": "timed out after 0.2s",
        "garbage": "TypeError: returned dict, not a ProviderVote",
        "raises": "ConnectionError: provider unreachable",
    }
    assert len(d.votes) == 4


async def test_fault_injection_holds_with_a_reason_when_the_quorum_is_not_met() -> None:
    providers = (Fixed("good", BUY, 0.8), Sleeper(), Garbage(), Raises())
    ens = ensemble(*providers, provider_timeout=0.2, cfg=settings(quorum=2))
    d = await ens.decide(context())
    assert d.action is HOLD
    assert "quorum not met, 1 of 4 providers answered (need 2)" in d.reasoning
    for name in ("sleeper", "garbage", "raises"):
        assert f"{name} abstained" in d.reasoning


async def test_the_deadline_caps_the_provider_timeout() -> None:
    ens = ensemble(Sleeper(), provider_timeout=30.0, cfg=settings(deadline=0.05))
    d = await ens.decide(context())
    assert d.votes[0].abstain_reason == "timed out after 0.05s" and d.action is HOLD


async def test_only_asks_the_named_providers() -> None:
    a, b = Fixed("a", BUY, 0.9), Fixed("b", SELL, 0.9)
    d = await ensemble(a, b).decide(context(), only=["b"])
    assert d.action is SELL and (a.calls, b.calls) == (0, 1)


async def test_a_vote_is_recorded_under_the_registered_name() -> None:
    impostor = Fixed("someone-else", BUY, 0.9)
    d = await Ensemble({"trend": impostor}, settings()).decide(context())
    assert d.votes[0].provider == "trend"
    muted = Ensemble({"trend": impostor}, settings(), weights=Weights(trend=0.0))
    d = await muted.decide(context())  # the weight keyed by the registered name applies
    assert d.action is HOLD and "zero weight" in d.reasoning


async def test_protective_levels_are_the_winners_median_on_the_right_side() -> None:
    ens = ensemble(
        Fixed("a", BUY, 0.9, stop="95", target="110"),
        Fixed("b", BUY, 0.9, stop="97", target="120"),
        Fixed("c", SELL, 0.1, stop="150", target="50"),
    )
    d = await ens.decide(context(price=100.0))
    assert d.action is BUY
    assert (d.stop_loss, d.take_profit) == (Decimal("96.00"), Decimal("115.00"))
    wrong = ensemble(Fixed("a", BUY, 0.9, stop="105", target="99"))
    d = await wrong.decide(context(price=100.0))
    assert d.action is BUY and d.stop_loss is None and d.take_profit is None
    hold = await ensemble(Fixed("a", HOLD, 0.9, stop="95")).decide(context())
    assert hold.stop_loss is None


class _BrokenWeights:
    async def weights(self, providers: list[str]) -> dict[str, float]:
        raise ConnectionError("storage is down")


async def test_unavailable_weights_fall_back_to_equal_weights_with_the_reason() -> None:
    e = ensemble(Fixed("a", BUY, 0.9), Fixed("b", BUY, 0.8), weights=_BrokenWeights())
    decision = await e.decide(context())
    assert decision.action is BUY
    assert decision.weights == {"a": 1.0, "b": 1.0}
    assert "weights unavailable (ConnectionError: storage is down)" in decision.reasoning


class _Now:
    """A provider that never awaits; records how it was asked."""

    def __init__(self, name: str, action: Action | None) -> None:
        self.name, self.action = name, action
        self.asked: list[str] = []

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        self.asked.append("vote_now")
        if self.action is None:
            raise ValueError("no view")
        return ProviderVote(provider=self.name, action=self.action, confidence=0.7)

    def signal(self, context: DecisionContext) -> Signal:
        raise AssertionError("decide() builds votes, not signals")

    async def vote(self, context: DecisionContext) -> ProviderVote:
        self.asked.append("vote")
        return self.vote_now(context)


class _Meets:
    """Answers only once its partner has started too: it needs the two asked concurrently."""

    def __init__(self, name: str, mine: asyncio.Event, theirs: asyncio.Event) -> None:
        self.name, self.mine, self.theirs = name, mine, theirs

    async def vote(self, context: DecisionContext) -> ProviderVote:
        self.mine.set()
        await self.theirs.wait()
        return ProviderVote(provider=self.name, action=BUY, confidence=0.6)


async def test_providers_that_never_await_are_asked_in_place_the_others_together() -> None:
    a, b = asyncio.Event(), asyncio.Event()
    now, broken = _Now("now", BUY), _Now("broken", None)
    ens = ensemble(_Meets("left", a, b), now, broken, _Meets("right", b, a), provider_timeout=5)
    d = await ens.decide(context())
    assert [v.provider for v in d.votes] == ["left", "now", "broken", "right"]  # in order
    assert now.asked == ["vote_now"] and broken.asked == ["vote_now"]
    assert not d.votes[0].abstained and not d.votes[3].abstained  # asked concurrently
    assert d.votes[2].abstain_reason == "ValueError: no view"
    assert d.action is BUY and len(d.counted_votes) == 3


class _BrokenSyncWeights(_BrokenWeights):
    def weights_now(self, providers: list[str]) -> dict[str, float]:
        raise ConnectionError("storage is down")


class _Says:
    """A provider that never awaits and can give its signal alone."""

    def __init__(self, name: str, action: Action) -> None:
        self.name, self.action = name, action

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(provider=self.name, action=self.action, confidence=0.7)

    def signal(self, context: DecisionContext) -> Signal:
        return Signal(self.action, 0.7, False)

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return self.vote_now(context)


async def test_every_way_of_deciding_falls_back_to_equal_weights_alike() -> None:
    """decide(), the synchronous ensemble and the signal-only ones share one fallback."""
    e = ensemble(_Says("a", BUY), _Says("b", SELL), _Says("c", SELL), weights=_BrokenSyncWeights())
    ctx = context()
    decided = await e.decide(ctx)
    sync, signalling = e.synchronous(), e.signalling()
    assert sync is not None and signalling is not None
    now = sync.decide(ctx)
    assert decided.action is now.action is SELL
    assert decided.weights == now.weights == {"a": 1.0, "b": 1.0, "c": 1.0}
    note = "weights unavailable (ConnectionError: storage is down); equal weights used"
    assert note in decided.reasoning and note in now.reasoning
    outcome = (SELL, decided.confidence)
    assert sync.signals(ctx)[1:] == outcome
    assert (await signalling.signals(ctx))[1:] == outcome
