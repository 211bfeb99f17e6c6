"""Decision providers and the source of their ensemble weights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ffe_core.domain.context import DecisionContext, ReplayedBar
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.flight import ProviderSpec
from ffe_core.domain.series import BarSeries, SeriesCursor


@runtime_checkable
class DecisionProvider(Protocol):
    """Votes BUY/SELL/HOLD for a context. Must not raise for bad model output: abstain instead."""

    name: str

    async def vote(self, context: DecisionContext) -> ProviderVote: ...


class Signal(NamedTuple):
    """What a replay's hot loop needs of a vote: its action, confidence and abstention."""

    action: Action
    confidence: float
    """As the vote carries it (0.0 when abstained)."""
    abstained: bool


ABSTAINED = Signal(Action.HOLD, 0.0, True)


@runtime_checkable
class SyncDecisionProvider(DecisionProvider, Protocol):
    """A provider that never awaits: it can be asked without an event loop.

    ``vote_now(context)`` returns what ``vote(context)`` returns; ``signal(context)`` the
    action, confidence and abstention of that vote without building it (no reasoning text, no
    validated model), which is all the backtest replay's per-bar loop needs when no risk check
    or callback looks at the decision. Like ``vote``, neither raises for bad model output.
    """

    def vote_now(self, context: DecisionContext) -> ProviderVote: ...

    def signal(self, context: DecisionContext) -> Signal: ...


@runtime_checkable
class SeriesSignalProvider(SyncDecisionProvider, Protocol):
    """A synchronous provider whose vote depends only on the bars of its window (as a
    :class:`BatchDecisionProvider`'s), so a replay need not build a context to ask it.

    ``signal_at(at, window)`` is ``signal(context)`` for the context of bar ``at.index`` of
    ``at.series`` whose window holds ``window`` bars.
    """

    def signal_at(self, at: SeriesCursor, window: int) -> Signal: ...


class BatchVotes(NamedTuple):
    """One provider's votes on every bar of a series."""

    actions: npt.NDArray[np.int8]
    """1 BUY, -1 SELL, 0 HOLD (also 0 where abstained)."""
    confidences: npt.NDArray[np.float64]
    """The vote's confidence (0.0 where abstained)."""
    abstained: npt.NDArray[np.bool_]


@runtime_checkable
class BatchDecisionProvider(DecisionProvider, Protocol):
    """A provider whose vote is a pure function of the context's bars, answerable for a series.

    ``vote_batch`` gives, for every bar ``i``, the action, confidence and abstention that
    ``vote`` gives on a context holding the last ``history`` bars ending at ``i`` (all of them
    when None), whatever the rest of the context (position, portfolio, memory, indicators).
    The backtest replay relies on that equality to skip building per-bar contexts.
    """

    def vote_batch(
        self,
        open: npt.NDArray[np.float64],
        high: npt.NDArray[np.float64],
        low: npt.NDArray[np.float64],
        close: npt.NDArray[np.float64],
        volume: npt.NDArray[np.float64],
        history: int | None,
    ) -> BatchVotes: ...


@runtime_checkable
class SeriesBatchProvider(BatchDecisionProvider, Protocol):
    """A batch provider that votes on a :class:`BarSeries`: ``vote_series(series)`` is
    ``vote_batch`` on the series' arrays and history. A replay hands every such provider the
    same series, so what they derive from it (an average several of them read) is computed once.
    """

    def vote_series(self, series: BarSeries) -> BatchVotes: ...


@dataclass(frozen=True)
class CallPlan:
    """How a provider would be asked about a context: its spec and the rendered prompt text
    (None for a provider without a prompt)."""

    spec: ProviderSpec
    prompt: str | None = None


@runtime_checkable
class DescribedProvider(Protocol):
    """A provider that says, without calling anything, how it is asked about ``context``: model
    id, parameters, prompt and prices. The flight recorder stores it; the cost ledger reads the
    prices (a provider that does not describe itself is treated as priced: budgets fail closed).
    """

    def call_plan(self, context: DecisionContext) -> CallPlan: ...


@runtime_checkable
class FixedPlanProvider(DescribedProvider, Protocol):
    """A described provider asked the same way whatever the context (rules, no prompt):
    ``fixed_plan()`` is what ``call_plan(context)`` returns for every context, so its prices are
    known before there is a context (the synchronous replay path checks it is free).
    """

    def fixed_plan(self) -> CallPlan: ...


class CallEstimate(NamedTuple):
    """What one uncached call of a paid provider is expected to use and cost."""

    tokens_in: int
    tokens_out: int
    cost_usd: float


@runtime_checkable
class LanguageModelProvider(DecisionProvider, Protocol):
    """A provider backed by a trained language model: it may remember the period it is asked
    about, and each uncached call costs money.

    ``knowledge_cutoff`` is the last date its training data may cover (None: unknown);
    ``cached_vote`` answers from the vote cache only (None on a miss, never a paid call);
    ``estimate_call`` prices one uncached call on ``context`` from the token price table.
    """

    @property
    def model(self) -> str: ...

    def knowledge_cutoff(self) -> date | None: ...

    async def cached_vote(self, context: DecisionContext) -> ProviderVote | None: ...

    def estimate_call(self, context: DecisionContext) -> CallEstimate: ...


@runtime_checkable
class SeriesCachedProvider(DecisionProvider, Protocol):
    """A provider that can tell, without a context, the vote it would answer from its cache on
    a replayed bar (a language model keyed by the prompt's inputs).

    ``cached_signal_at(bar)`` is the :class:`Signal` of the vote ``vote(context)`` gives for
    the context the replay builds from ``bar`` when that vote comes from the cache (counted and
    timed as ``vote`` counts a cached vote), or None when the cache does not hold it - then the
    replay builds the context and asks ``vote``, which may call. It never makes a call.
    """

    async def cached_signal_at(self, bar: ReplayedBar) -> Signal | None: ...


@runtime_checkable
class InProcessCachedProvider(SeriesCachedProvider, Protocol):
    """A :class:`SeriesCachedProvider` whose cache may be held in this process.

    ``cached_now()`` tells whether it is (fixed for the provider's life); then
    ``cached_signal_now(bar)`` is ``cached_signal_at(bar)`` (the same signal, counted alike)
    read without awaiting, so a replay asks it on its synchronous path, with no coroutine.
    """

    def cached_now(self) -> bool: ...

    def cached_signal_now(self, bar: ReplayedBar) -> Signal | None: ...


@runtime_checkable
class WeightSource(Protocol):
    """Current ensemble weight per provider (the learning service implements it)."""

    async def weights(self, providers: list[str]) -> dict[str, float]: ...


@runtime_checkable
class SyncWeightSource(WeightSource, Protocol):
    """Weights known without awaiting (``weights_now`` equals ``weights``)."""

    def weights_now(self, providers: list[str]) -> dict[str, float]: ...


class EqualWeights:
    """Every provider counts the same: the default before anything is learned."""

    async def weights(self, providers: list[str]) -> dict[str, float]:
        return self.weights_now(providers)

    def weights_now(self, providers: list[str]) -> dict[str, float]:
        return dict.fromkeys(providers, 1.0)
