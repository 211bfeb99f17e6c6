"""Value for money as a weight rule: a provider whose trades did not pay for it is demoted.

Off by default (``costs.demote.enabled``). A provider that cost money over the value window,
has at least ``min_scored`` scored votes, and whose attributed trade P&L is below its cost
keeps at most ``weight_floor`` of ensemble weight; free providers are never demoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ffe_core.config import DemoteSettings
from ffe_core.domain.costs import ProviderValue
from ffe_core.ports.clock import Clock
from ffe_core.ports.providers import WeightSource
from ffe_core.services.costs import CostLedger


def demoted(values: Sequence[ProviderValue], rule: DemoteSettings) -> dict[str, str]:
    """``{provider: why}`` for every provider whose marginal value does not cover its cost."""
    return {
        v.provider: (
            f"trade P&L {v.pnl_usd:.2f} over {v.window_days}d does not cover its cost "
            f"{v.cost_usd:.2f} USD (weight held at {rule.weight_floor:g})"
        )
        for v in values
        if v.cost_usd > 0 and v.scored >= rule.min_scored and v.pnl_usd < v.cost_usd
    }


class DemotingWeights:
    """A WeightSource: the learned weights, with demoted providers held at the floor."""

    def __init__(
        self,
        inner: WeightSource,
        ledger: CostLedger,
        horizon: str,
        rule: DemoteSettings,
        clock: Clock,
    ) -> None:
        self.inner = inner
        self.ledger = ledger
        self.horizon = horizon
        self.rule = rule
        self.clock = clock
        self.reasons: dict[str, str] = {}
        self._judged_at: datetime | None = None

    async def demoted(self) -> dict[str, str]:
        """The current judgement, measured again after ``refresh_seconds``."""
        now = self.clock.now()
        stale = (
            self._judged_at is None
            or (now - self._judged_at).total_seconds() >= self.rule.refresh_seconds
        )
        if stale:
            self.reasons = demoted(await self.ledger.value(self.horizon), self.rule)
            self._judged_at = now
        return self.reasons

    async def weights(self, providers: list[str]) -> dict[str, float]:
        learned = await self.inner.weights(providers)
        reasons = await self.demoted()
        floor = self.rule.weight_floor
        return {p: min(w, floor) if p in reasons else w for p, w in learned.items()}


def weight_source(
    learned: WeightSource, ledger: CostLedger, horizon: str, rule: DemoteSettings, clock: Clock
) -> WeightSource:
    """The learned weights, or (``costs.demote.enabled``) the demoting wrapper around them."""
    return DemotingWeights(learned, ledger, horizon, rule, clock) if rule.enabled else learned


async def demotions(weights: WeightSource) -> dict[str, str]:
    """``{provider: why}`` for every provider ``weights`` holds at the floor now (``{}`` when
    ``costs.demote`` is off): what the API, ``ffe providers stats`` and the dashboard flag."""
    return await weights.demoted() if isinstance(weights, DemotingWeights) else {}
