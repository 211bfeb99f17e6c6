"""A synthetic market and panel of providers for learning tests (seeded, so runs repeat)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.services.learning import LearningService

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(hours=1)
NOISE = ("noise_a", "noise_b", "noise_c")


@dataclass
class SyntheticMarket:
    """Hourly prices where each step moves up or down by at least 0.3% (never inside the HOLD
    band). ``oracle`` calls the next move right with probability equal to its confidence
    (calibrated); the noise providers guess at random with confidence in [0.5, 0.9]."""

    seed: int = 7
    instrument: str = "BTC-USD"
    oracle_accuracy_shift: float = 0.0
    """Added to the oracle's chance of being right (its confidence is unchanged)."""
    prices: dict[datetime, Decimal] = field(default_factory=dict)
    step: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.prices[T0] = Decimal("100")

    @property
    def now(self) -> datetime:
        return T0 + STEP * self.step

    async def price(self, symbol: str, at: datetime) -> Decimal | None:
        return self.prices.get(at) if symbol == self.instrument else None

    def next_decision(self, weights: dict[str, float]) -> Decision:
        """A decision at ``now``; advances the market one step (its outcome is then known)."""
        rng = self.rng
        up = rng.random() < 0.5
        move = (0.003 + abs(rng.gauss(0.0, 0.01))) * (1 if up else -1)
        truth = Action.BUY if up else Action.SELL
        wrong = Action.SELL if up else Action.BUY
        confidence = rng.choice((0.55, 0.65, 0.75))
        right = rng.random() < confidence + self.oracle_accuracy_shift
        votes = [
            ProviderVote(provider="oracle", action=truth if right else wrong, confidence=confidence)
        ]
        for name in NOISE:
            votes.append(
                ProviderVote(
                    provider=name,
                    action=rng.choice((Action.BUY, Action.SELL)),
                    confidence=round(rng.uniform(0.5, 0.9), 3),
                )
            )
        ref = self.prices[self.now]
        decision = Decision(
            instrument=self.instrument,
            action=Action.HOLD,
            confidence=0.0,
            reference_price=ref,
            votes=tuple(votes),
            weights=weights,
            created_at=self.now,
        )
        self.step += 1
        self.prices[self.now] = (ref * Decimal(str(1 + move))).quantize(Decimal("0.000001"))
        return decision


async def run_decisions(
    service: LearningService, market: SyntheticMarket, n: int, score_every: int = 10
) -> list[dict[str, float]]:
    """Make ``n`` decisions with the learned weights, scoring as time passes; returns the
    weights seen after every scoring pass."""
    seen: list[dict[str, float]] = []
    names = ["oracle", *NOISE]
    for i in range(n):
        decision = market.next_decision(await service.weights(names))
        async with service.uow_factory() as uow:
            await uow.decisions.add(decision)
            await uow.commit()
        if (i + 1) % score_every == 0 or i == n - 1:
            await service.score_due(market.now, market.price)
            seen.append(await service.weights(names))
    return seen
