"""Agent cycle cost by phase: how much of a cycle is storage, with 4 instruments, resting orders
on the paper venue and the offline providers, and how many instrument-decisions a minute result.

Run: ``python -m benchmarks.agent [--passes 60] [--resting 2]``.
The embedded defaults (SQLite WAL file in a temp directory, paper broker, bundled data, the
offline providers, 4 instruments) with ``--resting`` limit orders resting per instrument, far
from the market, so that every observation has working orders to look at. Timers: the whole
run; observation (``process_market`` and the ledger sync); the decision (context, ensemble,
risk); and storage: time inside units of work (a session open to its close), wherever they are
opened (journal, decisions, paper venue, gate), with the number of units of work and of round
trips to SQLite's worker thread per cycle (the steady measure on a loaded machine). Targets:
storage <= 50 % of the run, >= 1,000 instrument-decisions per minute.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from dependency_injector import providers

from ffe_adapters.storage.sql import sqlite_driver
from ffe_core.domain.orders import Order, OrderType, Side
from ffe_entrypoints.container import build_container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.settings import load_settings

STORAGE_SHARE_TARGET = 0.50
DECISIONS_PER_MINUTE_TARGET = 1000


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"storage": 0.0, "observe": 0.0, "decide": 0.0}
        self.depth = 0
        self._opened = 0.0
        self.units = 0  # units of work opened (outermost)
        self.trips = 0  # round trips to SQLite's worker thread


def count_trips(timers: Timers) -> None:
    """Count every round trip to the SQLite driver's worker thread: on a shared machine each
    costs a thread wake-up, so their number is the steady measure of storage work."""
    execute = sqlite_driver.OneTripConnection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        timers.trips += 1
        return await execute(self, fn, *args, **kwargs)

    sqlite_driver.OneTripConnection._execute = counted  # type: ignore[method-assign]


class TimedUnitOfWork:
    """A unit of work whose open-to-close time is added to ``storage`` (outermost only)."""

    def __init__(self, inner: Any, timers: Timers) -> None:
        self._inner = inner
        self._timers = timers

    async def __aenter__(self) -> Any:
        t = self._timers
        if t.depth == 0:
            t._opened = time.perf_counter()
            t.units += 1
        t.depth += 1
        return await self._inner.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        t = self._timers
        try:
            await self._inner.__aexit__(exc_type, exc, tb)
        finally:
            t.depth -= 1
            if t.depth == 0:
                t.seconds["storage"] += time.perf_counter() - t._opened


def timed(timers: Timers, phase: str, fn: Any) -> Any:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            timers.seconds[phase] += time.perf_counter() - start

    return wrapper


async def rest_orders(broker: Any, symbols: tuple[str, ...], per_instrument: int) -> int:
    """Buy limits at a price the market will not reach: they rest for the whole run."""
    placed = 0
    for symbol in symbols:
        for i in range(per_instrument):
            order = Order(
                client_order_id=f"bench-rest-{symbol}-{i}",
                instrument=symbol,
                side=Side.BUY,
                type=OrderType.LIMIT,
                quantity=Decimal(1),
                limit_price=Decimal("0.01"),
            )
            await broker.submit_order(order)
            placed += 1
    return placed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passes", type=int, default=60, help="passes over the instruments")
    parser.add_argument("--resting", type=int, default=2, help="resting orders per instrument")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ffe-bench-agent-") as tmp:
        directory = Path(tmp)
        env = {
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{directory / 'agent.db'}",
            "FFE_LOGGING__LEVEL": "WARNING",
        }
        settings = load_settings(directory, environ=env)
        container = build_container(settings)
        timers = Timers()
        count_trips(timers)
        storage = container.storage()
        factory = storage.uow_factory
        container.uow_factory.override(providers.Object(lambda: TimedUnitOfWork(factory(), timers)))
        await startup(container)
        try:
            symbols = settings.agent.instruments
            resting = await rest_orders(container.broker(), symbols, args.resting)
            agent = container.agent()
            agent.cycles.observe = timed(timers, "observe", agent.cycles.observe)
            service = agent.decisions
            service.decide = timed(timers, "decide", service.decide)
            cycles = args.passes * len(symbols)
            for phase in timers.seconds:
                timers.seconds[phase] = 0.0
            timers.units = timers.trips = 0
            started = time.perf_counter()
            await agent.run(cycles=cycles, interval=0)
            wall = time.perf_counter() - started
        finally:
            await shutdown(container)
    done = agent.progress.cycles
    per_minute = done / wall * 60
    share = timers.seconds["storage"] / wall
    print(
        f"{done} cycles ({args.passes} passes x {len(symbols)} instruments), "
        f"{resting} resting orders, SQLite, offline providers: {wall:.2f} s"
    )
    print(f"  cycle mean                {wall / done * 1000:7.2f} ms")
    for phase in ("observe", "decide", "storage"):
        seconds = timers.seconds[phase]
        print(
            f"  {phase:10} {seconds:7.2f} s  {seconds / done * 1000:7.2f} ms/cycle  "
            f"{seconds / wall:6.1%} of the run"
        )
    print(
        f"  per cycle: {timers.units / done:.2f} units of work, "
        f"{timers.trips / done:.2f} round trips to SQLite's worker thread"
    )
    verdict = "ok" if share <= STORAGE_SHARE_TARGET else "MISS"
    print(f"  storage share {share:.1%} (target <= {STORAGE_SHARE_TARGET:.0%}) {verdict}")
    verdict = "ok" if per_minute >= DECISIONS_PER_MINUTE_TARGET else "MISS"
    print(
        f"  {per_minute:,.0f} instrument-decisions per minute "
        f"(target >= {DECISIONS_PER_MINUTE_TARGET:,}) {verdict}"
    )


if __name__ == "__main__":
    asyncio.run(main())
