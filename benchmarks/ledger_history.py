"""Reads bounded by what is asked, not by the ledger's history: what a user-facing operation
costs on a small ledger and on a large one, both in this process, taking turns.

Run: ``python -m benchmarks.ledger_history [--small 1000] [--large 20000] [--rounds 25]
[--no-postgres]``.
Each ledger is its own storage (a SQLite WAL file in a temp directory; then a throw-away
PostgreSQL schema on 127.0.0.1:5432, database ``test``, skipped with a note when unreachable)
with its own container and API app (the embedded defaults: paper broker, bundled data). The
ledger is seeded through its repositories, a few thousand trades a transaction, with
``--small``/``--large`` filled orders a minute apart, each with one fill (PostgreSQL's tables are
then vacuumed and analysed, as its autovacuum would); the paper venue's own book holds only this
run's orders. ``--small`` defaults to ``FILLS_SHOWN``, so ``GET /fills`` answers a full page on
both ledgers. Per round, on each ledger in turn (which one goes first alternates):

1. gate sync: an order placed at the paper venue directly (not through the gate, as a
   venue-side exit is) fills there; ``ExecutionGate.sync()`` finds its fill and records it;
2. account snapshot after that fill: ``AccountView.invalidate()``, then ``snapshot()``;
3. ``GET /api/v1/fills`` and ``GET /api/v1/orders`` through the app, in process (ASGI);
4. the decision trail (``FlightRecorder.trail``) of a decision the gate traded.

Printed: each operation's median wall time (PostgreSQL's own work is in it; this process's
CPU time is shown too) on both ledgers and the ratio large/small (target <= 1.5x), and, as
what the code before paid on every sync with a new fill and every snapshot rebuild, one read
of the whole large ledger (``fills.list()`` + ``orders.list()``) and the snapshot's first build
(which replays the whole ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, cast

import httpx

from benchmarks.persistence import PG, drop
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.orders import Fill, Order, OrderStatus, OrderType, Side
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.api.portfolio import FILLS_SHOWN
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.settings import load_settings

TARGET = 1.5
ROWS_PER_TRANSACTION = 5000
INSTRUMENTS = ("BTC-USD", "ETH-USD")
OPERATIONS = (
    "gate sync, one new venue fill",
    "account snapshot after one fill",
    "GET /api/v1/fills",
    "GET /api/v1/orders",
    "decision trail",
)


@dataclass
class Timings:
    """Wall and process CPU times (ms) of each operation."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    async def time(self, operation: str, run: Callable[[], Awaitable[Any]]) -> Any:
        start, used = time.perf_counter(), time.process_time()
        result = await run()
        self.cpu.setdefault(operation, []).append((time.process_time() - used) * 1000)
        self.wall.setdefault(operation, []).append((time.perf_counter() - start) * 1000)
        return result


@dataclass
class Ledger:
    """One storage with ``rows`` trades of history, its container and its API client."""

    rows: int
    container: Container
    client: httpx.AsyncClient
    traded: str
    """The id of a decision the gate traded (its order and fill are in the ledger)."""
    timings: Timings = field(default_factory=Timings)
    placed: int = 0

    async def round(self) -> None:
        """Each operation once, timed."""
        agent = self.container.agent()
        gate, view = agent.gate, self.container.account_view()
        await self.place_at_venue()
        changed = await self.timings.time(OPERATIONS[0], gate.sync)
        assert len(changed) == 1, f"the sync recorded {len(changed)} orders, not 1"

        async def snapshot() -> Any:
            view.invalidate()
            return await view.snapshot()

        await self.timings.time(OPERATIONS[1], snapshot)
        for operation in OPERATIONS[2:4]:
            path = operation.removeprefix("GET ")
            response = await self.timings.time(operation, partial(self.client.get, path))
            assert response.status_code == 200, response.text
        recorder = self.container.flight_recorder()
        trail = await self.timings.time(OPERATIONS[4], lambda: recorder.trail(self.traded))
        assert len(trail.orders) == len(trail.fills) == 1

    async def place_at_venue(self) -> None:
        """A market order sent to the paper venue, not through the gate: it fills there, and
        only the gate's sync brings it into the ledger."""
        self.placed += 1
        order = Order(
            client_order_id=f"venue-side-{self.placed}",
            instrument="BTC-USD",
            side=Side.BUY if self.placed % 2 else Side.SELL,
            type=OrderType.MARKET,
            quantity=Decimal("0.01"),
        )
        await self.container.broker().submit_order(order)


def history(rows: int) -> list[tuple[Order, Fill]]:
    """``rows`` filled orders a minute apart, a year ago, each with its fill."""
    start = datetime.now(UTC) - timedelta(days=365)
    trades: list[tuple[Order, Fill]] = []
    for i in range(rows):
        at = start + timedelta(minutes=i)
        instrument = INSTRUMENTS[i // 2 % 2]
        side = Side.BUY if i % 2 == 0 else Side.SELL
        price = Decimal(40000 + (i * 37) % 2000)
        coid = f"seed-{i:07d}"
        order = Order(
            client_order_id=coid,
            instrument=instrument,
            side=side,
            quantity=Decimal("0.01"),
            decision_id=f"seed-decision-{i:07d}",
            status=OrderStatus.FILLED,
            filled_quantity=Decimal("0.01"),
            average_fill_price=price,
            created_at=at,
            updated_at=at,
        )
        fill = Fill(
            fill_id=f"seed-fill-{i:07d}",
            client_order_id=coid,
            instrument=instrument,
            side=side,
            quantity=Decimal("0.01"),
            price=price,
            commission=Decimal("0.4"),
            ts=at,
        )
        trades.append((order, fill))
    return trades


async def seed(uow_factory: UnitOfWorkFactory, trades: list[tuple[Order, Fill]]) -> None:
    """The trades into the ledger, through its repositories, a few thousand a transaction."""
    for at in range(0, len(trades), ROWS_PER_TRANSACTION):
        async with uow_factory() as uow:
            for order, fill in trades[at : at + ROWS_PER_TRANSACTION]:
                await uow.orders.add(order)
                await uow.fills.add(fill)
            await uow.commit()


async def vacuum(container: Container) -> None:
    """PostgreSQL's visibility map and planner statistics of the seeded tables, as its
    autovacuum keeps them on a database in use (SQLite keeps no statistics unless asked, and
    ffe does not ask)."""
    schema = container.settings().storage.schema_name
    if schema is None:
        return
    import asyncpg

    conn = await asyncpg.connect(**PG, server_settings={"search_path": schema})
    try:
        await conn.execute("VACUUM ANALYZE orders, fills")
    finally:
        await conn.close()


async def trade_one(container: Container) -> str:
    """A manual decision sent through the gate (its order fills at the paper venue)."""
    decision = Decision(
        instrument="BTC-USD", action=Action.BUY, confidence=0.9, suggested_size=Decimal("0.01")
    )
    async with container.uow_factory()() as uow:
        await uow.decisions.add(decision)
        await uow.commit()
    sent = await container.agent().gate.execute(decision)
    assert sent.sent and sent.order is not None, sent.refused
    traded: str = decision.id
    return traded


@asynccontextmanager
async def ledger(
    rows: int, environ: dict[str, str], directory: Path, trades: list[tuple[Order, Fill]]
) -> AsyncIterator[Ledger]:
    """A started app on its own storage, seeded with ``rows`` trades."""
    settings = load_settings(
        directory,
        environ={
            **environ,
            "FFE_API__RATE_LIMIT_PER_MINUTE": "100000000",
            "FFE_LOGGING__LEVEL": "WARNING",
        },
    )
    container = build_container(settings)
    app = create_app(container, start_agent=False)
    asgi: Any = app  # httpx types the ASGI callable more narrowly than Litestar declares it
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.lifespan())
        transport = httpx.ASGITransport(app=asgi)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )
        await seed(container.uow_factory(), trades[:rows])
        await vacuum(container)
        traded = await trade_one(container)
        yield Ledger(rows, container, client, traded)


async def whole_ledger_read(uow_factory: UnitOfWorkFactory, times: int = 3) -> float:
    """Median wall ms of reading every fill and order (what the code before read)."""
    spent: list[float] = []
    for _ in range(times):
        start = time.perf_counter()
        async with uow_factory() as uow:
            await uow.fills.list()
            await uow.orders.list()
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent)


async def first_build(small: Ledger, large: Ledger) -> dict[int, float]:
    """Wall ms of each ledger's first account snapshot (the whole ledger replayed)."""
    spent: dict[int, float] = {}
    for book in (small, large):
        start = time.perf_counter()
        await book.container.account_view().snapshot()
        spent[book.rows] = (time.perf_counter() - start) * 1000
    return spent


async def compare(small: Ledger, large: Ledger, rounds: int) -> tuple[float, dict[int, float]]:
    """Warm-up, the rounds taking turns, then the references."""
    built = await first_build(small, large)
    for book in (small, large):
        for _ in range(2):  # warm-up: statement caches, pools
            await book.round()
        book.timings = Timings()
    for i in range(rounds):
        for book in (small, large) if i % 2 == 0 else (large, small):
            await book.round()
    whole = await whole_ledger_read(large.container.uow_factory())
    return whole, built


def report(title: str, small: Ledger, large: Ledger, whole: float, built: dict[int, float]) -> None:
    print(title)
    header = (
        f"  {'operation (median of rounds)':34} {small.rows:>8,} {large.rows:>8,} "
        f"{'ratio':>6}   {'CPU':>6} {'CPU':>6} {'ratio':>6}"
    )
    print(header)
    print(f"  {'':34} {'wall ms':>8} {'wall ms':>8} {'':6}   {'ms':>6} {'ms':>6}")
    for operation in OPERATIONS:
        walls = [statistics.median(b.timings.wall[operation]) for b in (small, large)]
        cpus = [statistics.median(b.timings.cpu[operation]) for b in (small, large)]
        ratio = walls[1] / walls[0]
        verdict = "ok" if ratio <= TARGET else "MISS"
        print(
            f"  {operation:34} {walls[0]:8.2f} {walls[1]:8.2f} {ratio:5.2f}x   "
            f"{cpus[0]:6.2f} {cpus[1]:6.2f} {cpus[1] / cpus[0]:5.2f}x  {verdict}"
        )
    print("  reference, what the code before paid:")
    print(
        f"    every fill and order read, {large.rows:,} trades {whole:10.1f} ms"
        "  (each sync that met a new venue fill)"
    )
    print(
        f"    the whole ledger replayed (first snapshot) {built[small.rows]:7.1f} / "
        f"{built[large.rows]:.1f} ms  (every snapshot rebuild)"
    )


def postgres_up() -> bool:
    try:
        with socket.create_connection((str(PG["host"]), cast(int, PG["port"])), timeout=1):
            return True
    except OSError:
        return False


Storage = Callable[[Path], dict[str, str]]
"""The storage settings (environment) of a ledger whose files go in the given directory."""


async def run(title: str, storages: tuple[Storage, Storage], args: argparse.Namespace) -> None:
    """Both ledgers seeded and started, then compared."""
    trades = history(args.large)
    with tempfile.TemporaryDirectory(prefix="ffe-bench-ledger-") as tmp:
        places = Path(tmp) / "small", Path(tmp) / "large"
        started = time.perf_counter()
        async with (
            ledger(args.small, storages[0](places[0]), places[0], trades) as small,
            ledger(args.large, storages[1](places[1]), places[1], trades) as large,
        ):
            seeded = time.perf_counter() - started
            whole, built = await compare(small, large, args.rounds)
        report(f"{title} (set up and seeded in {seeded:.0f} s)", small, large, whole, built)


def sqlite(directory: Path) -> dict[str, str]:
    return {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{directory / 'ffe.db'}"}


async def postgres(args: argparse.Namespace) -> None:
    """The same on two throw-away schemas of the machine's PostgreSQL (dropped after)."""
    if not postgres_up():
        print(f"PostgreSQL: not reachable on {PG['host']}:{PG['port']}, skipped")
        return
    url = "postgresql+asyncpg://{user}@{host}:{port}/{database}".format(**PG)
    schemas = [f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]

    def in_schema(schema: str) -> Storage:
        return lambda _: {"FFE_STORAGE__URL": url, "FFE_STORAGE__SCHEMA_NAME": schema}

    try:
        await run("PostgreSQL (loopback)", (in_schema(schemas[0]), in_schema(schemas[1])), args)
    finally:
        for schema in schemas:
            await drop(schema)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", type=int, default=FILLS_SHOWN, help="trades in the small one")
    parser.add_argument("--large", type=int, default=20_000, help="trades in the large one")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"{args.rounds} rounds, the two ledgers taking turns; wall time is the measure "
        f"(target: large/small <= {TARGET:g}x); load average {os.getloadavg()[0]:.2f}"
    )
    await run("SQLite (WAL file)", (sqlite, sqlite), args)
    if not args.no_postgres:
        await postgres(args)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
