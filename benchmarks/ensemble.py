"""Ensemble latency: concurrency with slow providers, and its own overhead with instant ones.

Run: ``python -m benchmarks.ensemble [--decisions 500] [--rounds 5]``.

1. Four fake providers that each take 200 ms: a decision should take <= 1.1x the slowest
   provider, because they are asked concurrently (the ratio is printed).
2. Four instant providers: the ensemble's own cost per decision - gathering, aggregation and
   building the Decision - plus persisting it on SQLite (``SqlStorage``, a file in a temporary
   directory, one unit of work and commit per decision as ``DecisionService`` does), as p50 and
   p99 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_core.config import EnsembleSettings, StorageSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio
from ffe_core.services.context import build_context
from ffe_core.services.ensemble import Ensemble

SLOW_SECONDS = 0.2
ACTIONS = (Action.BUY, Action.BUY, Action.SELL, Action.HOLD)


class FakeProvider:
    """Answers after ``delay`` seconds (0 = at once) with a fixed, explained vote."""

    def __init__(self, name: str, action: Action, delay: float) -> None:
        self.name, self.delay = name, delay
        self.answer = ProviderVote(
            provider=name,
            model="fake",
            action=action,
            confidence=0.7,
            reasoning=f"{name} thinks {action} because the fake says so.",
        )

    async def vote(self, context: DecisionContext) -> ProviderVote:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.answer


def make_context() -> DecisionContext:
    inst = Instrument(symbol="BTC-USD", asset_class=AssetClass.CRYPTO, base="BTC", quote="USD")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    bars = [
        Bar(ts=t0 + timedelta(hours=i), open=100 + i, high=101 + i, low=99 + i, close=100.5 + i)
        for i in range(200)
    ]
    return build_context(inst, bars, bars[-1].ts, Portfolio(cash=Decimal(10_000)))


def ensemble(delay: float) -> Ensemble:
    providers = {f"p{i}": FakeProvider(f"p{i}", a, delay) for i, a in enumerate(ACTIONS)}
    cfg = EnsembleSettings(aggregation="confidence_weighted", quorum=2, max_disagreement=0.6)
    return Ensemble(providers, cfg, provider_timeout=5.0)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def concurrency(rounds: int) -> None:
    ens, ctx = ensemble(SLOW_SECONDS), make_context()
    await ens.decide(ctx)  # warm-up
    ratios = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await ens.decide(ctx)
        ratios.append((time.perf_counter() - t0) / SLOW_SECONDS)
    print(
        f"4 providers x {SLOW_SECONDS * 1000:.0f} ms: decision / slowest provider = "
        f"median {statistics.median(ratios):.3f}x, worst {max(ratios):.3f}x "
        f"(target <= 1.1x) -> {'OK' if max(ratios) <= 1.1 else 'MISSED'}"
    )


async def overhead(decisions: int) -> None:
    ens, ctx = ensemble(0.0), make_context()
    with tempfile.TemporaryDirectory() as tmp:
        storage = SqlStorage(StorageSettings(url=f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}"))
        await storage.migrate()
        decide_ms: list[float] = []
        store_ms: list[float] = []
        for i in range(decisions + 20):
            t0 = time.perf_counter()
            decision = await ens.decide(ctx)
            t1 = time.perf_counter()
            async with storage.uow_factory() as uow:
                await uow.decisions.add(decision)
                await uow.commit()
            t2 = time.perf_counter()
            if i >= 20:  # the first ones warm caches and the connection pool
                decide_ms.append((t1 - t0) * 1000)
                store_ms.append((t2 - t1) * 1000)
        await storage.close()
    total = [a + b for a, b in zip(decide_ms, store_ms, strict=True)]
    print(f"instant providers, {decisions} decisions, SQLite persistence (ms per decision):")
    for name, xs in (("aggregate", decide_ms), ("persist", store_ms), ("total", total)):
        print(f"  {name:<9} p50 {pct(xs, 0.5):7.3f}   p99 {pct(xs, 0.99):7.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decisions", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    asyncio.run(concurrency(args.rounds))
    asyncio.run(overhead(args.decisions))


if __name__ == "__main__":
    main()
