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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext, ReplayedBar
from ffe_core.domain.costs import ProviderCall
from ffe_core.domain.decisions import Action, Decision, ProviderVote, new_id
from ffe_core.domain.flight import ProviderSpec
from ffe_core.domain.series import SeriesCursor
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.providers import (
    ABSTAINED,
    CallPlan,
    DecisionProvider,
    DescribedProvider,
    EqualWeights,
    FixedPlanProvider,
    InProcessCachedProvider,
    SeriesCachedProvider,
    SeriesSignalProvider,
    Signal,
    SyncDecisionProvider,
    SyncWeightSource,
    WeightSource,
)
from ffe_core.services.costs import CostLedger, may_have_cost
from ffe_core.services.deadline import within
from ffe_core.services.ensemble_batch import Held
from ffe_core.services.tally import Tally, tally

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
        vote = await within(provider.vote(context), limit_seconds)  # no task, timer if it waits
        if not isinstance(vote, ProviderVote):
            raise TypeError(f"returned {type(vote).__name__}, not a ProviderVote")
    except TimeoutError:
        vote = ProviderVote.abstain(label, f"timed out after {limit_seconds:g}s")
    except Exception as exc:
        vote = ProviderVote.abstain(label, f"{type(exc).__name__}: {exc}")
    return _stamped(vote, label, start)


def ask_now(
    provider: SyncDecisionProvider, context: DecisionContext, name: str | None = None
) -> ProviderVote:
    """:func:`ask` for a provider that never awaits: no event loop, so no deadline either."""
    label = name or provider.name
    start = time.perf_counter()
    try:
        vote = provider.vote_now(context)
        if not isinstance(vote, ProviderVote):
            raise TypeError(f"returned {type(vote).__name__}, not a ProviderVote")
    except Exception as exc:
        vote = ProviderVote.abstain(label, f"{type(exc).__name__}: {exc}")
    return _stamped(vote, label, start)


def _stamped(vote: ProviderVote, label: str, start: float) -> ProviderVote:
    """The vote under its registered name, with its latency unless the provider gave one."""
    latency = (time.perf_counter() - start) * 1000
    update: dict[str, object] = {}
    if vote.provider != label:
        update["provider"] = label
    if not vote.latency_ms:
        update["latency_ms"] = round(latency, 3)
    return vote.model_copy(update=update) if update else vote


def _signal(provider: SyncDecisionProvider, context: DecisionContext) -> Signal:
    try:
        return provider.signal(context)
    except Exception:  # as ask_now: a failing provider abstains
        return ABSTAINED


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
    unwritten_calls: tuple[ProviderCall, ...] = ()
    """Cost-ledger rows of free calls left for the caller to write with the decision
    (``deliberate(defer_free_calls=True)``)."""


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
        self._sync_kinds: dict[str, tuple[DecisionProvider, SyncDecisionProvider | None]] = {}

    async def decide(self, context: DecisionContext, only: Sequence[str] | None = None) -> Decision:
        return (await self.deliberate(context, only, plan=False)).decision

    async def deliberate(
        self,
        context: DecisionContext,
        only: Sequence[str] | None = None,
        *,
        plan: bool = True,
        defer_free_calls: bool = False,
    ) -> Deliberation:
        """The decision with how each provider was asked (``plan``; always with a cost ledger,
        which needs the providers' prices) and which were refused for their budget.
        ``defer_free_calls``: when no call may have cost money, their ledger rows are left in
        ``unwritten_calls`` for the caller to write with the decision (else written now)."""
        start = time.perf_counter()
        names = list(only) if only else list(self.providers)
        plans: dict[str, CallPlan] = {}
        if plan or self.costs is not None:
            found = {n: call_plan(self.providers[n], n, context) for n in names}
            plans = {n: p for n, p in found.items() if p is not None}
        specs: dict[str, ProviderSpec | None] = {n: _spec(plans, n) for n in names}
        refused = await self.costs.refusals(specs) if self.costs is not None else {}

        votes = await self._ask_all(context, names, refused, specs)
        decision_id = new_id()
        unwritten: tuple[ProviderCall, ...] = ()
        if self.costs is not None:
            calls = self.costs.calls(decision_id, votes, specs, refused)
            if defer_free_calls and not may_have_cost(calls, specs):
                unwritten = tuple(calls)
            else:
                await self.costs.write(calls)
        self._record_calls(votes)
        gathered = time.perf_counter()
        weights, weight_note = await self._weights(names)
        action, confidence, reasoning, aggregation = await self._aggregate(context, votes, weights)
        decision = self._decision(
            decision_id,
            context,
            votes,
            weights,
            (action, confidence, reasoning + weight_note, aggregation),
            start,
            gathered,
        )
        return Deliberation(decision, plans, refused, unwritten)

    async def _ask_all(
        self,
        context: DecisionContext,
        names: list[str],
        refused: dict[str, str],
        specs: dict[str, ProviderSpec | None],
    ) -> list[ProviderVote]:
        """Every provider's vote, in ``names`` order: those that never await asked in place
        (no task, no deadline: :func:`ask_now`), the others at once under the deadline."""
        timeout = min(self.provider_timeout, self.settings.deadline_seconds)
        got: dict[str, ProviderVote] = {}
        waiting: dict[str, Awaitable[ProviderVote]] = {}
        for n in names:
            provider = self.providers[n]
            if n in refused:
                got[n] = ProviderVote.abstain(n, refused[n], model=_model(specs[n]))
            elif (now := self._never_awaits(n, provider)) is not None:
                got[n] = ask_now(now, context, n)
            else:
                waiting[n] = ask(provider, context, timeout, n)
        if len(waiting) == 1:
            for n, pending in waiting.items():
                got[n] = await pending
        elif waiting:
            got.update(zip(waiting, await asyncio.gather(*waiting.values()), strict=True))
        return [got[n] for n in names]

    def _never_awaits(self, name: str, provider: DecisionProvider) -> SyncDecisionProvider | None:
        """``provider`` when it is a :class:`SyncDecisionProvider`, else None (checked once per
        provider object: a runtime protocol check costs about as much as a vote)."""
        known = self._sync_kinds.get(name)
        if known is None or known[0] is not provider:
            now = provider if isinstance(provider, SyncDecisionProvider) else None
            known = self._sync_kinds[name] = (provider, now)
        return known[1]

    def signalling(self) -> SignalEnsemble | None:
        """This ensemble asked for its providers' signals only, awaiting those that await (see
        :class:`SignalEnsemble`), when that decides as :meth:`decide`: the conditions of
        :meth:`synchronous` except that providers may await, and no cost ledger at all (an
        awaiting provider may be priced). None otherwise."""
        kind = type(self)
        source = self.weight_source
        if (
            kind.decide is not Ensemble.decide
            or kind.deliberate is not Ensemble.deliberate
            or kind._aggregate is not Ensemble._aggregate
            or self.costs is not None
            or self.settings.aggregation == "judge"
            or not isinstance(source, SyncWeightSource)
        ):
            return None
        return SignalEnsemble(self, source)

    def synchronous(self) -> SyncEnsemble | None:
        """This ensemble deciding without an event loop, when that decides as :meth:`decide`:
        every provider a :class:`SyncDecisionProvider`, the weights a :class:`SyncWeightSource`,
        no judge, no provider the cost ledger could charge or hold (see :meth:`_unbudgeted`),
        and neither ``decide``, ``deliberate`` nor ``_aggregate`` overridden; None otherwise.

        The providers and weight source are those of the moment of the call.
        """
        kind = type(self)
        source = self.weight_source
        providers = {n: p for n, p in self.providers.items() if isinstance(p, SyncDecisionProvider)}
        if (
            kind.decide is not Ensemble.decide
            or kind.deliberate is not Ensemble.deliberate
            or kind._aggregate is not Ensemble._aggregate
            or not self._unbudgeted()
            or self.settings.aggregation == "judge"
            or not isinstance(source, SyncWeightSource)
            or len(providers) != len(self.providers)
        ):
            return None
        return SyncEnsemble(self, providers, source)

    def _unbudgeted(self) -> bool:
        """Whether no budget can refuse any provider and none costs money: no cost ledger, or
        every provider a free :class:`FixedPlanProvider` without a budget of its own (a free
        provider is held only by its own budget; one that does not describe itself counts as
        priced). The synchronous path skips the ledger's rows for such free calls."""
        costs = self.costs
        if costs is None:
            return True
        own = costs.settings.budgets.providers
        for name, provider in self.providers.items():
            if not isinstance(provider, FixedPlanProvider):
                return False
            budget = own.get(name)
            if budget is not None and (
                budget.daily_usd is not None or budget.monthly_usd is not None
            ):
                return False
            try:
                if provider.fixed_plan().spec.priced:
                    return False
            except Exception:  # as call_plan: an undescribed provider counts as priced
                return False
        return True

    def _record_calls(self, votes: list[ProviderVote]) -> None:
        for vote in votes:
            outcome = "abstained" if vote.abstained else "ok"
            self.metrics.provider_called(
                vote.provider, outcome, vote.latency_ms / 1000, vote.cost_usd
            )

    async def _weights(self, names: list[str]) -> tuple[dict[str, float], str]:
        try:
            return await self.weight_source.weights(names), ""
        except Exception as exc:  # learned weights unavailable: decide on equal weights, say so
            return _equal_weights(names, exc)

    def _decision(
        self,
        decision_id: str,
        context: DecisionContext,
        votes: list[ProviderVote],
        weights: dict[str, float],
        outcome: tuple[Action, float, str, str],
        start: float,
        gathered: float,
    ) -> Decision:
        action, confidence, reasoning, aggregation = outcome
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
        return decision

    async def _aggregate(
        self, context: DecisionContext, votes: list[ProviderVote], weights: dict[str, float]
    ) -> tuple[Action, float, str, str]:
        mode = self.settings.aggregation
        counted = [v for v in votes if not v.abstained]
        if mode != "judge" or len(counted) < self.settings.quorum:
            return self._combine(votes, weights)
        verdict = await self._judge(context, counted)
        if verdict is None:
            fallback = " [judge unavailable; fell back to weighted majority]"
            return self._combine(votes, weights, "weighted_majority", fallback)
        reasoning = f"Judge {verdict.provider}: {verdict.reasoning}{_absent(votes)}"
        return verdict.action, verdict.confidence, reasoning, mode

    def _combine(
        self,
        votes: list[ProviderVote],
        weights: dict[str, float],
        mode: str | None = None,
        note: str = "",
    ) -> tuple[Action, float, str, str]:
        """Quorum, then the tally of the counted votes, with the reasoning written out."""
        mode = mode or self.settings.aggregation
        counted = [v for v in votes if not v.abstained]
        suffix = _absent(votes) + note
        if len(counted) < self.settings.quorum:
            return (
                Action.HOLD,
                0.0,
                f"HOLD: quorum not met, {len(counted)} of {len(votes)} providers answered "
                f"(need {self.settings.quorum}).{suffix}",
                mode,
            )
        t = tally(
            [v.provider for v in counted],
            [v.action for v in counted],
            [v.confidence for v in counted],
            weights,
            self.settings,
            mode,
        )
        return t.action, t.confidence, _explain(t, counted, weights, self.settings) + suffix, mode

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


class SyncEnsemble:
    """An :class:`Ensemble` whose providers never await, asked without an event loop (see
    :meth:`Ensemble.synchronous`): no deadline, since there is nothing to wait for."""

    def __init__(
        self,
        ensemble: Ensemble,
        providers: dict[str, SyncDecisionProvider],
        weights: SyncWeightSource,
    ) -> None:
        self.ensemble = ensemble
        self._providers = list(providers.items())
        self._names = list(providers)
        self._weight_source = weights
        # Equal weights are the same on every bar: asked once.
        self._equal = weights.weights_now(self._names) if type(weights) is EqualWeights else None
        series = [p for p in providers.values() if isinstance(p, SeriesSignalProvider)]
        self._series: list[SeriesSignalProvider] | None = (
            series if len(series) == len(providers) else None
        )

    @property
    def from_series(self) -> bool:
        """Whether every provider is a :class:`SeriesSignalProvider` (see :meth:`signals_at`)."""
        return self._series is not None

    def decide(self, context: DecisionContext) -> Decision:
        """What :meth:`Ensemble.decide` decides on ``context``."""
        e = self.ensemble
        start = time.perf_counter()
        votes = [ask_now(p, context, n) for n, p in self._providers]
        e._record_calls(votes)
        gathered = time.perf_counter()
        weights, weight_note = _weights_now(self._weight_source, self._names)
        action, confidence, reasoning, aggregation = e._combine(votes, weights)
        outcome = (action, confidence, reasoning + weight_note, aggregation)
        return e._decision(new_id(), context, votes, weights, outcome, start, gathered)

    def signals(self, context: DecisionContext) -> tuple[list[Signal], Action, float]:
        """Every provider's signal and the action and confidence (rounded as a Decision's)
        that :meth:`decide` reaches, without building votes or the Decision and without
        telling the metrics sink: what a replay needs when nothing looks at the Decision."""
        return self._tally([_signal(p, context) for _n, p in self._providers])

    def signals_at(self, at: SeriesCursor, window: int) -> tuple[list[Signal], Action, float]:
        """:meth:`signals` for the context of bar ``at.index`` holding ``window`` bars, without
        building it; only when :attr:`from_series`."""
        if self._series is None:
            raise TypeError("a provider needs the context: use signals()")
        signals: list[Signal] = []
        for p in self._series:  # as _signal: a failing provider abstains
            try:
                signals.append(p.signal_at(at, window))
            except Exception:
                signals.append(ABSTAINED)
        return self._tally(signals)

    def _tally(self, signals: list[Signal]) -> tuple[list[Signal], Action, float]:
        return _tally_signals(self, signals)


class SignalEnsemble:
    """An :class:`Ensemble` asked for what a replay needs of a decision and nothing more (see
    :meth:`Ensemble.signalling`): every provider's :class:`Signal` and the action and
    confidence (rounded as a Decision's) that :meth:`Ensemble.decide` reaches on the same
    context. Providers that never await give their signal in place; the others are asked with
    :func:`ask`, at once under the ensemble's deadline, as ``decide`` asks them. No vote of a
    provider that never awaits, no Decision, no reasoning and no metrics are made.
    """

    def __init__(self, ensemble: Ensemble, weights: SyncWeightSource) -> None:
        self.ensemble = ensemble
        self._names = list(ensemble.providers)
        self._weight_source = weights
        self._equal = weights.weights_now(self._names) if type(weights) is EqualWeights else None
        self._kinds = [
            (n, p, p if isinstance(p, SyncDecisionProvider) else None)
            for n, p in ensemble.providers.items()
        ]
        self._timeout = min(ensemble.provider_timeout, ensemble.settings.deadline_seconds)
        # Per provider, how signals_at asks it (checked once: a protocol check costs a vote).
        self._series: list[SeriesSignalProvider | None] = [
            p if isinstance(p, SeriesSignalProvider) else None for _n, p, _now in self._kinds
        ]
        self._cached: list[SeriesCachedProvider | None] = [
            p if now is None and isinstance(p, SeriesCachedProvider) else None
            for _n, p, now in self._kinds
        ]
        readers = [_reader_now(s, c) for s, c in zip(self._series, self._cached, strict=True)]
        self._readers: list[_ReaderNow] | None = (
            [r for r in readers if r is not None] if all(readers) else None
        )

    @property
    def from_series(self) -> bool:
        """Whether :meth:`signals_at` can ask every provider without a context (each reads only
        the series, or can look its vote up in its cache from a :class:`ReplayedBar`)."""
        return all(
            s is not None or c is not None for s, c in zip(self._series, self._cached, strict=True)
        )

    @property
    def answers_now(self) -> bool:
        """Whether :meth:`signals_now` can ask every provider: :attr:`from_series`, and every
        provider that awaits has its vote cache in this process."""
        return self._readers is not None

    async def signals(self, context: DecisionContext) -> tuple[list[Signal], Action, float]:
        """Every provider's signal on ``context`` and the ensemble's action and confidence."""
        return await self._signals(context, [], {})

    def signals_now(self, bar: ReplayedBar) -> tuple[list[Signal], list[int]]:
        """:meth:`signals_at`'s signals on ``bar`` read without awaiting (no deadline: nothing
        waits), with the providers whose cache missed (ABSTAINED in their place for now): the
        bar's outcome is then :meth:`tallied` when none missed, else :meth:`completed` on the
        bar's context. Only when :attr:`answers_now`."""
        if self._readers is None:
            raise TypeError("a provider cannot answer without awaiting: use signals_at()")
        signals: list[Signal] = []
        missing: list[int] = []
        at, window = bar.at, bar.window
        for k, (reads_series, read) in enumerate(self._readers):
            try:  # as _signal and ask: a failing provider abstains
                found = read(at, window) if reads_series else read(bar)
            except Exception:
                found = ABSTAINED
            if found is None:
                missing.append(k)
                found = ABSTAINED
            signals.append(found)
        return signals, missing

    def tallied(self, signals: list[Signal]) -> tuple[list[Signal], Action, float]:
        """The signals with the ensemble's action and (rounded) confidence on them."""
        return _tally_signals(self, signals)

    async def completed(
        self, context: DecisionContext, signals: list[Signal], missing: list[int]
    ) -> tuple[list[Signal], Action, float]:
        """:meth:`signals_now`'s outcome when some cache missed: those providers asked with
        :func:`ask` on the bar's ``context`` (as :meth:`signals_at` asks them)."""
        return await self._signals(context, missing, dict(enumerate(signals)))

    async def signals_at(
        self, bar: ReplayedBar, context: Callable[[], DecisionContext]
    ) -> tuple[list[Signal], Action, float]:
        """:meth:`signals` on the context ``context()`` builds from ``bar``, built only when some
        awaiting provider's vote is not in its cache: those providers alone are then asked with
        :func:`ask` on it. Only when :attr:`from_series`."""
        signals: list[Signal] = []
        missing: list[int] = []
        for k, (series, cached) in enumerate(zip(self._series, self._cached, strict=True)):
            if series is not None:
                try:  # as _signal: a failing provider abstains
                    signals.append(series.signal_at(bar.at, bar.window))
                except Exception:
                    signals.append(ABSTAINED)
                continue
            if cached is None:
                raise TypeError("a provider needs the context: use signals()")
            try:  # as ask: under the deadline; a timeout or failure abstains
                found = await within(cached.cached_signal_at(bar), self._timeout)
            except Exception:
                found = ABSTAINED
            if found is None:
                missing.append(k)
                found = ABSTAINED
            signals.append(found)
        if not missing:
            return _tally_signals(self, signals)
        return await self._signals(context(), missing, dict(enumerate(signals)))

    async def _signals(
        self, context: DecisionContext, only: list[int], given: dict[int, Signal]
    ) -> tuple[list[Signal], Action, float]:
        """The signals on ``context``: ``given`` ones kept, the rest asked (all, or ``only``)."""
        signals: list[Signal] = []
        waiting: dict[int, Awaitable[ProviderVote]] = {}
        for k, (name, provider, now) in enumerate(self._kinds):
            if k in given and k not in only:
                signals.append(given[k])
            elif now is not None:
                signals.append(_signal(now, context))
            else:
                signals.append(ABSTAINED)
                waiting[k] = ask(provider, context, self._timeout, name)
        if len(waiting) == 1:
            for k, pending in waiting.items():
                vote = await pending
                signals[k] = Signal(vote.action, vote.confidence, vote.abstained)
        elif waiting:
            for k, vote in zip(waiting, await asyncio.gather(*waiting.values()), strict=True):
                signals[k] = Signal(vote.action, vote.confidence, vote.abstained)
        return _tally_signals(self, signals)


_ReaderNow = tuple[bool, Callable[..., Signal | None]]
"""How :meth:`SignalEnsemble.signals_now` asks a provider about a bar: whether it reads the
series, then its ``signal_at(cursor, window)``, else its cache's reader of the bar."""


def _reader_now(
    series: SeriesSignalProvider | None, cached: SeriesCachedProvider | None
) -> _ReaderNow | None:
    """How :meth:`SignalEnsemble.signals_now` asks a provider about a bar without awaiting
    (None when it cannot)."""
    if series is not None:
        return True, series.signal_at
    if isinstance(cached, InProcessCachedProvider) and cached.cached_now():
        return False, cached.cached_signal_now
    return None


def _tally_signals(
    asked: SyncEnsemble | SignalEnsemble, signals: list[Signal]
) -> tuple[list[Signal], Action, float]:
    """The signals, and the action and (rounded) confidence ``decide`` reaches from them."""
    settings = asked.ensemble.settings
    names: list[str] = []
    actions: list[Action] = []
    confidences: list[float] = []
    for name, (action, confidence, abstained) in zip(asked._names, signals, strict=True):
        if not abstained:
            names.append(name)
            actions.append(action)
            confidences.append(confidence)
    if len(names) < settings.quorum:
        return signals, Action.HOLD, 0.0
    weights = asked._equal
    if weights is None:
        weights = _weights_now(asked._weight_source, asked._names)[0]
    t = tally(names, actions, confidences, weights, settings, settings.aggregation)
    return signals, t.action, round(t.confidence, 6)


def _weights_now(source: SyncWeightSource, names: list[str]) -> tuple[dict[str, float], str]:
    """The weights of ``names`` now, with the note to add to the reasoning (as
    :meth:`Ensemble._weights`: equal weights, said so, when the source fails)."""
    try:
        return source.weights_now(names), ""
    except Exception as exc:
        return _equal_weights(names, exc)


def _spec(plans: Mapping[str, CallPlan], name: str) -> ProviderSpec | None:
    found = plans.get(name)
    return found.spec if found is not None else None


def _model(spec: ProviderSpec | None) -> str | None:
    return spec.model if spec is not None else None


def _absent(votes: list[ProviderVote]) -> str:
    absent = "; ".join(f"{v.provider} abstained ({v.abstain_reason})" for v in votes if v.abstained)
    return f" [{absent}]" if absent else ""


def _equal_weights(names: list[str], exc: Exception) -> tuple[dict[str, float], str]:
    note = f" [weights unavailable ({type(exc).__name__}: {exc}); equal weights used]"
    return dict.fromkeys(names, 1.0), note


def _explain(
    t: Tally, counted: list[ProviderVote], weights: dict[str, float], settings: EnsembleSettings
) -> str:
    """The reasoning of a tallied decision (without the abstentions' suffix)."""
    if t.held is Held.NO_UNANIMITY:
        return (
            "HOLD: no unanimity (" + ", ".join(f"{v.provider} {v.action}" for v in counted) + ")."
        )
    if not t.scores:
        return f"All {len(counted)} providers agree on {t.action}."
    if t.held is Held.ZERO_WEIGHT:
        return "HOLD: all counted votes have zero weight."
    tally_text = ", ".join(f"{a} {s / t.total:.0%}" for a, s in t.scores.items() if s)
    leaders = [a for a, s in t.scores.items() if s == t.best]
    if t.held is Held.TIE:
        return f"HOLD: tie between {', '.join(leaders)} ({tally_text})."
    if t.held is Held.DISAGREEMENT:
        against = 1 - t.best / t.total
        return (
            f"HOLD: providers disagree too much ({tally_text}; {against:.0%} against "
            f"{leaders[0]}, limit {settings.max_disagreement:.0%})."
        )
    winners = [v for v in counted if v.action is t.action]
    top = max(winners, key=lambda v: (weights.get(v.provider, 1.0) * v.confidence, v.provider))
    return f"{t.action} ({tally_text}). Strongest case, {top.provider}: {top.reasoning}"


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
