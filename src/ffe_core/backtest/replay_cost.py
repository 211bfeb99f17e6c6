"""What a replay costs in language-model calls: counted before (from the vote cache, without a
paid call), bounded while it runs, and recorded per provider for the report.

:class:`CacheOnly` stands in for a paid provider in a dry run: it answers from the vote cache
and counts (and prices) every miss instead of calling. A dry run's later prompts can differ from
the real run's where a miss made it decide differently, so its count is exact when everything
or nothing is cached and an estimate in between. :class:`Metered` wraps a provider for the real
run: cache first, then a paid call unless the budget would be passed, in which case it abstains
and flags the meter so the replay stops (:meth:`SpendMeter.check`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ffe_core.domain.context import DecisionContext, ReplayedBar
from ffe_core.domain.decisions import ProviderVote
from ffe_core.domain.errors import FfeError
from ffe_core.ports.providers import (
    DecisionProvider,
    InProcessCachedProvider,
    LanguageModelProvider,
    SeriesCachedProvider,
    Signal,
)


class BudgetExceeded(FfeError):
    """A replay stopped because its next paid call would pass the spending limit."""


@dataclass
class Spend:
    """One provider's language-model use in a replay."""

    calls: int = 0
    """Uncached (paid) calls made, or in a dry run, that would be made."""
    cached: int = 0
    """Votes answered from the vote cache (no call, no cost)."""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass
class SpendMeter:
    """Spend per provider, and the limit a run must stay within (None: no limit)."""

    max_cost_usd: float | None = None
    by_provider: dict[str, Spend] = field(default_factory=dict)
    exceeded: str | None = None
    """Why the run must stop, once a call was refused for the budget."""

    def of(self, name: str) -> Spend:
        found = self.by_provider.get(name)
        return found if found is not None else self.by_provider.setdefault(name, Spend())

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.by_provider.values())

    @property
    def cost_usd(self) -> float:
        return sum(s.cost_usd for s in self.by_provider.values())

    def allows(self, name: str, estimate_usd: float) -> bool:
        """Whether one more call estimated at ``estimate_usd`` stays within the limit."""
        if self.max_cost_usd is None or self.cost_usd + estimate_usd <= self.max_cost_usd:
            return True
        self.exceeded = (
            f"replay stopped: {name}'s next call (~${estimate_usd:.4f}) would take the spend "
            f"${self.cost_usd:.4f} past --max-cost ${self.max_cost_usd:.2f}"
        )
        return False

    def check(self) -> None:
        """Raise BudgetExceeded once a call was refused for the budget."""
        if self.exceeded is not None:
            raise BudgetExceeded(self.exceeded)

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "cached": sum(s.cached for s in self.by_provider.values()),
            "cost_usd": round(self.cost_usd, 6),
            "max_cost_usd": self.max_cost_usd,
            "providers": {name: asdict(s) for name, s in self.by_provider.items()},
        }


class _Counted:
    """A paid provider whose votes are counted on a meter; the cache is asked first."""

    def __init__(self, inner: LanguageModelProvider, meter: SpendMeter) -> None:
        self.name = inner.name
        self._inner = inner
        self._meter = meter
        self._series = inner if isinstance(inner, SeriesCachedProvider) else None
        self._now = (
            inner if isinstance(inner, InProcessCachedProvider) and inner.cached_now() else None
        )

    def cached_now(self) -> bool:
        """Whether the provider's vote cache is held in this process."""
        return self._now is not None

    def cached_signal_now(self, bar: ReplayedBar) -> Signal | None:
        """:meth:`cached_signal_at` without awaiting, when :meth:`cached_now`."""
        if self._now is None:
            return None
        signal = self._now.cached_signal_now(bar)
        if signal is not None:
            self._meter.of(self.name).cached += 1
        return signal

    async def cached_signal_at(self, bar: ReplayedBar) -> Signal | None:
        """The cached vote's signal for a replayed bar (counted as a cached vote), or None on
        a miss - or when the provider cannot look one up without a context."""
        if self._series is None:
            return None
        signal = await self._series.cached_signal_at(bar)
        if signal is not None:
            self._meter.of(self.name).cached += 1
        return signal

    async def _cached(self, context: DecisionContext) -> ProviderVote | None:
        """The cached vote (counted as such), or None on a miss."""
        cached = await self._inner.cached_vote(context)
        if cached is not None:
            self._meter.of(self.name).cached += 1
        return cached


class CacheOnly(_Counted):
    """A paid provider in a dry run: cached votes, and a priced, counted abstention per miss."""

    async def vote(self, context: DecisionContext) -> ProviderVote:
        cached = await self._cached(context)
        if cached is not None:
            return cached
        spend = self._meter.of(self.name)
        estimate = self._inner.estimate_call(context)
        spend.calls += 1
        spend.tokens_in += estimate.tokens_in
        spend.tokens_out += estimate.tokens_out
        spend.cost_usd += estimate.cost_usd
        return ProviderVote.abstain(self.name, "not cached (dry run: no call made)")


class Metered(_Counted):
    """A paid provider in a real run: the cache first, then a call within the budget."""

    async def vote(self, context: DecisionContext) -> ProviderVote:
        cached = await self._cached(context)
        if cached is not None:
            return cached
        spend = self._meter.of(self.name)
        if not self._meter.allows(self.name, self._inner.estimate_call(context).cost_usd):
            return ProviderVote.abstain(self.name, "spending limit reached")
        vote = await self._inner.vote(context)
        spend.calls += 1
        spend.tokens_in += vote.tokens_in
        spend.tokens_out += vote.tokens_out
        spend.cost_usd += vote.cost_usd
        return vote


def paid(providers: Mapping[str, DecisionProvider]) -> dict[str, LanguageModelProvider]:
    """The providers that call a language model (and may cost money)."""
    return {n: p for n, p in providers.items() if isinstance(p, LanguageModelProvider)}


def wrapped(
    providers: Mapping[str, DecisionProvider],
    meter: SpendMeter,
    kind: type[CacheOnly] | type[Metered],
) -> dict[str, DecisionProvider]:
    """``providers`` with every language-model provider wrapped in ``kind``."""
    return {
        n: kind(p, meter) if isinstance(p, LanguageModelProvider) else p
        for n, p in providers.items()
    }
