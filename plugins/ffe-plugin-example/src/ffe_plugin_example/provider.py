"""A contrarian provider: fades the last N bars' move when it is unusually large."""

from __future__ import annotations

import itertools
import statistics

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote


class ContrarianOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback: int = Field(default=5, ge=2, le=100)
    threshold_sigma: float = Field(default=2.0, gt=0)


class ContrarianProvider:
    """Votes against a move of more than ``threshold_sigma`` standard deviations."""

    name = "contrarian"

    def __init__(self, options: ContrarianOptions | None = None) -> None:
        self.options = options or ContrarianOptions()

    async def vote(self, context: DecisionContext) -> ProviderVote:
        closes = [b.close for b in context.bars]
        n = self.options.lookback
        if len(closes) < n * 4:
            return ProviderVote.abstain(self.name, f"needs {n * 4} bars, got {len(closes)}")
        returns = [b / a - 1 for a, b in itertools.pairwise(closes)]
        sigma = statistics.pstdev(returns) * n**0.5
        move = closes[-1] / closes[-1 - n] - 1
        if sigma == 0 or abs(move) < self.options.threshold_sigma * sigma:
            return ProviderVote(
                provider=self.name,
                action=Action.HOLD,
                confidence=0.5,
                reasoning=f"The {n}-bar move of {move:+.2%} is within normal range.",
            )
        action = Action.SELL if move > 0 else Action.BUY
        strength = min(1.0, abs(move) / (self.options.threshold_sigma * sigma) / 2)
        return ProviderVote(
            provider=self.name,
            action=action,
            confidence=round(0.5 + strength / 2, 4),
            reasoning=(
                f"The last {n} bars moved {move:+.2%}, more than "
                f"{self.options.threshold_sigma} sigma; fading it."
            ),
        )
