"""The ensemble: asks every enabled provider at once, under a deadline, and combines the votes.

Aggregations: ``weighted_majority`` (weight per action), ``confidence_weighted`` (weight x
confidence per action), ``unanimity`` (all counted votes agree) and ``judge`` (one provider weighs
the others' arguments). A quorum rule turns too few answers, or too much disagreement, into HOLD
with the reason stated. Provider failures never propagate: they become recorded abstentions.

With a cost ledger, a provider past its budget is not asked (it abstains with the reason) and
every call is recorded with its tokens, dollars, latency and outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision, ProviderVote, new_id
from ffe_core.domain.flight import ProviderSpec
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.providers import (
    CallPlan,
    DecisionProvider,
    DescribedProvider,
    EqualWeights,
    WeightSource,
)
from ffe_core.services.costs import CostLedger

log = logging.getLogger(__name__)


async def ask(
    provider: DecisionProvider,
    context: DecisionContext,
    limit_seconds: float,
    name: str | None = None,
) -> ProviderVote:
    """One provider's vote; a timeout, exception or malformed answer becomes an abstention.

    The vote is recorded under ``name`` (the provider's registered name; ``provider.name`` when
    not given), the key that weights and ``only`` use.
    """
    label = name or provider.name
    start = time.perf_counter()
    try:
        async with asyncio.timeout(limit_seconds):  # unlike wait_for (3.11), no extra task
            vote = await provider.vote(context)
        if not isinstance(vote, ProviderVote):
            raise TypeError(f"returned {type(vote).__name__}, not a ProviderVote")
    except TimeoutError:
        vote = ProviderVote.abstain(label, f"timed out after {limit_seconds:g}s")
    except Exception as exc:
        vote = ProviderVote.abstain(label, f"{type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - start) * 1000
    if vote.provider != label:
        vote = vote.model_copy(update={"provider": label})
    return vote if vote.latency_ms else vote.model_copy(update={"latency_ms": round(latency, 3)})


def call_plan(provider: DecisionProvider, name: str, context: DecisionContext) -> CallPlan | None:
    """How ``provider`` (registered as ``name``) is asked about ``context``; None when it does not
    describe itself or its description fails (logged: describing never stops a decision)."""
    if not isinstance(provider, DescribedProvider):
        return None
    try:
        plan = provider.call_plan(context)
    except Exception as exc:
        log.warning("provider %s could not describe its call: %s", name, exc)
        return None
    if plan.spec.provider != name:
        plan = CallPlan(plan.spec.model_copy(update={"provider": name}), plan.prompt)
    return plan


@dataclass(frozen=True)
class Deliberation:
    """A decision (before the risk check) and how each provider was asked about it."""

    decision: Decision
    plans: dict[str, CallPlan] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    """Providers not asked because a budget was reached, with the reason."""


class Ensemble:
    """Combines the votes of ``providers`` into one Decision (not persisted here)."""

    def __init__(
        self,
        providers: Mapping[str, DecisionProvider],
        settings: EnsembleSettings,
        *,
        provider_timeout: float = 30.0,
        weights: WeightSource | None = None,
        judge: DecisionProvider | None = None,
        metrics: Metrics | None = None,
        costs: CostLedger | None = None,
    ) -> None:
        self.providers = dict(providers)
        self.settings = settings
        self.provider_timeout = provider_timeout
        self.weight_source: WeightSource = weights or EqualWeights()
        self.judge = judge
        self.metrics = metrics or NullMetrics()
        self.costs = costs

    async def decide(self, context: DecisionContext, only: Sequence[str] | None = None) -> Decision:
        return (await self.deliberate(context, only, plan=False)).decision

    async def deliberate(
        self, context: DecisionContext, only: Sequence[str] | None = None, *, plan: bool = True
    ) -> Deliberation:
        """The decision with how each provider was asked (``plan``; always with a cost ledger,
        which needs the providers' prices) and which were refused for their budget."""
        start = time.perf_counter()
        names = list(only) if only else list(self.providers)
        plans: dict[str, CallPlan] = {}
        if plan or self.costs is not None:
            found = {n: call_plan(self.providers[n], n, context) for n in names}
            plans = {n: p for n, p in found.items() if p is not None}
        specs: dict[str, ProviderSpec | None] = {n: _spec(plans, n) for n in names}
        refused = await self.costs.refusals(specs) if self.costs is not None else {}

        timeout = min(self.provider_timeout, self.settings.deadline_seconds)
        votes = list(
            await asyncio.gather(
                *(
                    _refused(n, refused[n], specs[n])
                    if n in refused
                    else ask(self.providers[n], context, timeout, n)
                    for n in names
                )
            )
        )
        decision_id = new_id()
        if self.costs is not None:
            await self.costs.record(decision_id, votes, specs, refused)
        for vote in votes:
            outcome = "abstained" if vote.abstained else "ok"
            self.metrics.provider_called(
                vote.provider, outcome, vote.latency_ms / 1000, vote.cost_usd
            )
        gathered = time.perf_counter()
        weight_note = ""
        try:
            weights = await self.weight_source.weights(names)
        except Exception as exc:  # learned weights unavailable: decide on equal weights, say so
            weights = dict.fromkeys(names, 1.0)
            weight_note = (
                f" [weights unavailable ({type(exc).__name__}: {exc}); equal weights used]"
            )
        action, confidence, reasoning, aggregation = await self._aggregate(context, votes, weights)
        reasoning += weight_note
        stop, target = _levels(votes, action, context)
        done = time.perf_counter()
        decision = Decision(
            id=decision_id,
            instrument=context.instrument.symbol,
            action=action,
            confidence=round(confidence, 6),
            reference_price=Decimal(str(float(context.last_price))),
            stop_loss=stop,
            take_profit=target,
            reasoning=reasoning,
            votes=tuple(votes),
            weights=weights,
            aggregation=aggregation,
            timings_ms={
                "providers": round((gathered - start) * 1000, 3),
                "aggregate": round((done - gathered) * 1000, 3),
            },
            created_at=context.as_of,
        )
        self.metrics.decision_made(decision.action.value, done - start)
        return Deliberation(decision, plans, refused)

    async def _aggregate(
        self, context: DecisionContext, votes: list[ProviderVote], weights: dict[str, float]
    ) -> tuple[Action, float, str, str]:
        mode = self.settings.aggregation
        counted = [v for v in votes if not v.abstained]
        abstained = [v for v in votes if v.abstained]
        absent = "; ".join(f"{v.provider} abstained ({v.abstain_reason})" for v in abstained)
        suffix = f" [{absent}]" if absent else ""
        if len(counted) < self.settings.quorum:
            return (
                Action.HOLD,
                0.0,
                f"HOLD: quorum not met, {len(counted)} of {len(votes)} providers answered "
                f"(need {self.settings.quorum}).{suffix}",
                mode,
            )
        if mode == "judge":
            verdict = await self._judge(context, counted)
            if verdict is not None:
                return (
                    verdict.action,
                    verdict.confidence,
                    (f"Judge {verdict.provider}: {verdict.reasoning}{suffix}"),
                    mode,
                )
            mode = "weighted_majority"
            suffix += " [judge unavailable; fell back to weighted majority]"
        if mode == "unanimity":
            actions = {v.action for v in counted}
            if len(actions) > 1:
                return (
                    Action.HOLD,
                    0.0,
                    (
                        "HOLD: no unanimity ("
                        + ", ".join(f"{v.provider} {v.action}" for v in counted)
                        + f").{suffix}"
                    ),
                    mode,
                )
            action = counted[0].action
            conf = sum(v.confidence for v in counted) / len(counted)
            return action, conf, f"All {len(counted)} providers agree on {action}.{suffix}", mode
        scores: dict[Action, float] = dict.fromkeys(Action, 0.0)
        for v in counted:
            w = weights.get(v.provider, 1.0)
            scores[v.action] += w * (v.confidence if mode == "confidence_weighted" else 1.0)
        total = sum(scores.values())
        best = max(scores.values())
        leaders = [a for a, s in scores.items() if s == best]
        if total <= 0:
            return Action.HOLD, 0.0, f"HOLD: all counted votes have zero weight.{suffix}", mode
        tally = ", ".join(f"{a} {s / total:.0%}" for a, s in scores.items() if s)
        if len(leaders) > 1:
            return (
                Action.HOLD,
                0.0,
                f"HOLD: tie between {', '.join(leaders)} ({tally}).{suffix}",
                mode,
            )
        action = leaders[0]
        against = 1 - best / total
        if against > self.settings.max_disagreement:
            return (
                Action.HOLD,
                0.0,
                (
                    f"HOLD: providers disagree too much ({tally}; {against:.0%} against {action}, "
                    f"limit {self.settings.max_disagreement:.0%}).{suffix}"
                ),
                mode,
            )
        winners = [v for v in counted if v.action is action]
        if mode == "confidence_weighted":
            conf = best / total  # the ensemble's probability mass on the winning action
        else:
            w_sum = sum(weights.get(v.provider, 1.0) for v in counted)
            conf = sum(weights.get(v.provider, 1.0) * v.confidence for v in winners) / w_sum
        top = max(winners, key=lambda v: (weights.get(v.provider, 1.0) * v.confidence, v.provider))
        return (
            action,
            conf,
            f"{action} ({tally}). Strongest case, {top.provider}: {top.reasoning}{suffix}",
            mode,
        )

    async def _judge(
        self, context: DecisionContext, counted: list[ProviderVote]
    ) -> ProviderVote | None:
        if self.judge is None:
            return None
        debate = context.model_copy(update={"peer_votes": tuple(counted)})
        name = self.judge.name
        if self.costs is not None:
            plan = call_plan(self.judge, name, debate)
            specs = {name: plan.spec if plan is not None else None}
            refused = await self.costs.refusals(specs)
            if refused:
                return None
            verdict = await ask(self.judge, debate, self.provider_timeout)
            await self.costs.record(None, [verdict], specs, {})
        else:
            verdict = await ask(self.judge, debate, self.provider_timeout)
        return None if verdict.abstained else verdict


def _spec(plans: Mapping[str, CallPlan], name: str) -> ProviderSpec | None:
    found = plans.get(name)
    return found.spec if found is not None else None


async def _refused(name: str, reason: str, spec: ProviderSpec | None) -> ProviderVote:
    """The abstention of a provider not asked because a budget was reached."""
    return ProviderVote.abstain(name, reason, model=spec.model if spec is not None else None)


def _levels(
    votes: Sequence[ProviderVote], action: Action, context: DecisionContext
) -> tuple[Decimal | None, Decimal | None]:
    """Median of the winners' protective levels, kept only if on the right side of the price."""
    if action is Action.HOLD:
        return None, None
    price = Decimal(str(float(context.last_price)))
    winners = [v for v in votes if not v.abstained and v.action is action]
    stops = [v.stop_loss for v in winners if v.stop_loss is not None]
    targets = [v.take_profit for v in winners if v.take_profit is not None]
    stop = context.instrument.round_price(Decimal(median(stops))) if stops else None
    target = context.instrument.round_price(Decimal(median(targets))) if targets else None
    below, above = (stop, target) if action is Action.BUY else (target, stop)
    if below is not None and below >= price:
        below = None
    if above is not None and above <= price:
        above = None
    return (below, above) if action is Action.BUY else (above, below)
