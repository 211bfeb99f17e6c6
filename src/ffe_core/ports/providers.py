"""Decision providers and the source of their ensemble weights."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import ProviderVote


@runtime_checkable
class DecisionProvider(Protocol):
    """Votes BUY/SELL/HOLD for a context. Must not raise for bad model output: abstain instead."""

    name: str

    async def vote(self, context: DecisionContext) -> ProviderVote: ...


class WeightSource(Protocol):
    """Current ensemble weight per provider (the learning service implements it)."""

    async def weights(self, providers: list[str]) -> dict[str, float]: ...


class EqualWeights:
    """Every provider counts the same: the default before anything is learned."""

    async def weights(self, providers: list[str]) -> dict[str, float]:
        return dict.fromkeys(providers, 1.0)
