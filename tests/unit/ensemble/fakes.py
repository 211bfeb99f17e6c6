"""Hand-written fake providers, weight sources and metrics for the ensemble tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio
from ffe_core.services.context import build_context

INSTRUMENT = Instrument(symbol="BTC-USD", asset_class=AssetClass.CRYPTO, base="BTC", quote="USD")


def context(price: float = 100.0, n: int = 30) -> DecisionContext:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    bars = [
        Bar(
            ts=start + timedelta(hours=i),
            open=price,
            high=price * 1.01,
            low=price * 0.99,
            close=price,
        )
        for i in range(n)
    ]
    return build_context(INSTRUMENT, bars, bars[-1].ts, Portfolio(cash=Decimal(10_000)))


class Fixed:
    """Always votes ``action`` with ``confidence`` after ``delay`` seconds."""

    def __init__(
        self,
        name: str,
        action: Action = Action.HOLD,
        confidence: float = 0.5,
        *,
        delay: float = 0.0,
        stop: str | None = None,
        target: str | None = None,
    ) -> None:
        self.name, self.action, self.confidence, self.delay = name, action, confidence, delay
        self.stop, self.target = stop, target
        self.calls = 0
        self.last_context: DecisionContext | None = None

    async def vote(self, context: DecisionContext) -> ProviderVote:
        self.calls += 1
        self.last_context = context
        if self.delay:
            await asyncio.sleep(self.delay)
        return ProviderVote(
            provider=self.name,
            action=self.action,
            confidence=self.confidence,
            reasoning=f"{self.name} says {self.action}",
            stop_loss=Decimal(self.stop) if self.stop else None,
            take_profit=Decimal(self.target) if self.target else None,
        )


class Sleeper:
    """Never answers in time."""

    def __init__(self, name: str = "sleeper", seconds: float = 10.0) -> None:
        self.name, self.seconds = name, seconds

    async def vote(self, context: DecisionContext) -> ProviderVote:
        await asyncio.sleep(self.seconds)
        return ProviderVote(provider=self.name, action=Action.BUY, confidence=1.0)


class Garbage:
    """Returns something that is not a ProviderVote (as a sloppy plugin might)."""

    def __init__(self, name: str = "garbage") -> None:
        self.name = name

    async def vote(self, context: DecisionContext) -> Any:
        return {"action": "BUY", "confidence": 2}


class Raises:
    """Raises instead of abstaining."""

    def __init__(self, name: str = "raises") -> None:
        self.name = name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        raise ConnectionError("provider unreachable")


class Weights:
    """A fixed weight per provider (1.0 for the rest)."""

    def __init__(self, **weights: float) -> None:
        self.table = weights
        self.asked: list[list[str]] = []

    async def weights(self, providers: list[str]) -> dict[str, float]:
        self.asked.append(list(providers))
        return {p: self.table.get(p, 1.0) for p in providers}


class RecordingMetrics:
    """Keeps every metrics call."""

    def __init__(self) -> None:
        self.decisions: list[tuple[str, float]] = []
        self.calls: list[tuple[str, str, float, float]] = []

    def decision_made(self, action: str, latency_seconds: float) -> None:
        self.decisions.append((action, latency_seconds))

    def provider_called(
        self, provider: str, outcome: str, latency_seconds: float, cost_usd: float
    ) -> None:
        self.calls.append((provider, outcome, latency_seconds, cost_usd))

    def circuit_state(self, name: str, state: str) -> None:
        pass

    def trade_executed(self, instrument: str, side: str) -> None:
        pass

    def agent_cycle(self, duration_seconds: float, uptime_seconds: float) -> None:
        pass
