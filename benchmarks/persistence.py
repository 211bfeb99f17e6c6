"""Decision persistence: one decision with 4 votes through ffe's SQL storage (unit of work,
repositories) next to the same rows written with the raw driver, in the same run.

Run: ``python -m benchmarks.persistence [--decisions 400] [--no-postgres]``.
SQLite: ``SqlStorage`` on a WAL file vs raw ``aiosqlite`` (same pragmas, same schema, one
INSERT, one executemany, COMMIT). PostgreSQL (127.0.0.1:5432, database ``test``, a throw-away
schema): ``SqlStorage`` vs raw ``asyncpg`` (a transaction with the same two statements). Both
sides serialise the decision to JSON the same way, and take turns write by write (a shared
machine's load then falls on both alike). Target: ffe ≤ 2x the raw driver.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_core.config import StorageSettings
from ffe_core.domain.decisions import Action, Decision, ProviderVote

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
TARGET = 2.0
INSERT_DECISION = (
    "INSERT INTO decisions (id, instrument, action, confidence, created_at, payload) VALUES ({})"
)
INSERT_VOTE = (
    "INSERT INTO votes (decision_id, provider, action, confidence, abstained, latency_ms, "
    "cost_usd) VALUES ({})"
)


def make_decision() -> Decision:
    votes = tuple(
        ProviderVote(
            provider=f"provider{i}",
            action=Action.BUY,
            confidence=0.5 + i / 10,
            reasoning="trend up, volume confirms " * 4,
            latency_ms=1.5,
        )
        for i in range(4)
    )
    return Decision(instrument="BTC-USD", action=Action.BUY, confidence=0.7, votes=votes)


def vote_rows(d: Decision) -> list[tuple[Any, ...]]:
    return [
        (d.id, v.provider, v.action.value, v.confidence, v.abstained, v.latency_ms, v.cost_usd)
        for v in d.votes
    ]


Write = Callable[[Decision], Awaitable[None]]


async def interleaved(writers: dict[str, Write], n: int) -> dict[str, tuple[list[float], float]]:
    """Each writer's wall times and mean process CPU (every thread: the driver's worker
    included) per write, the writers taking turns write by write, so that the load of a shared
    machine falls on all of them alike."""
    for write in writers.values():
        for _ in range(20):  # warm-up: pools, statement caches
            await write(make_decision())
    samples: dict[str, list[float]] = {name: [] for name in writers}
    cpu: dict[str, float] = dict.fromkeys(writers, 0.0)
    for _ in range(n):
        for name, write in writers.items():
            d = make_decision()
            start, used = time.perf_counter(), time.process_time()
            await write(d)
            cpu[name] += time.process_time() - used
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: (samples[name], cpu[name] * 1000 / n) for name in writers}


def ffe_writer(storage: SqlStorage) -> Write:
    async def write(d: Decision) -> None:
        async with storage.uow_factory() as uow:
            await uow.decisions.add(d)
            await uow.commit()

    return write


@asynccontextmanager
async def sqlite_raw(path: Path) -> AsyncIterator[Write]:
    import aiosqlite

    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            await conn.execute(f"PRAGMA {pragma}")
        decision_sql = INSERT_DECISION.format(", ".join("?" * 6))
        vote_sql = INSERT_VOTE.format(", ".join("?" * 7))

        async def write(d: Decision) -> None:
            payload = json.dumps(d.model_dump(mode="json"))
            created = d.created_at.replace(tzinfo=None).isoformat(sep=" ")
            await conn.execute("BEGIN")
            await conn.execute(
                decision_sql,
                (d.id, d.instrument, d.action.value, d.confidence, created, payload),
            )
            await conn.executemany(vote_sql, vote_rows(d))
            await conn.execute("COMMIT")

        yield write


@asynccontextmanager
async def postgres_raw(schema: str) -> AsyncIterator[Write]:
    import asyncpg

    conn = await asyncpg.connect(**PG, server_settings={"search_path": schema})
    decision_sql = INSERT_DECISION.format(", ".join(f"${i}" for i in range(1, 7)))
    vote_sql = INSERT_VOTE.format(", ".join(f"${i}" for i in range(1, 8)))

    async def write(d: Decision) -> None:
        payload = json.dumps(d.model_dump(mode="json"))
        async with conn.transaction():
            await conn.execute(
                decision_sql,
                d.id,
                d.instrument,
                d.action.value,
                d.confidence,
                d.created_at,
                payload,
            )
            await conn.executemany(vote_sql, vote_rows(d))

    try:
        yield write
    finally:
        await conn.close()


async def drop(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**PG)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def report(title: str, raw_name: str, runs: dict[str, tuple[list[float], float]]) -> None:
    """Wall p50 (what a caller waits for) and CPU per write (steadier on a shared machine)."""
    (raw, raw_cpu), (ours, our_cpu) = runs["raw"], runs["ffe"]
    print(title)
    for name, ms in ((raw_name, raw), ("ffe SqlStorage", ours)):
        text = (
            f"  {name:28} p50 {statistics.median(ms):6.2f} ms  mean {statistics.fmean(ms):6.2f} ms"
        )
        if ms is ours:
            ratio = statistics.median(ours) / statistics.median(raw)
            verdict = "ok" if ratio <= TARGET else "MISS"
            text += f"  {ratio:4.2f}x raw (target <= {TARGET:g}x) {verdict}"
        print(text)
    print(f"  CPU per write: ffe {our_cpu:.3f} ms, raw {raw_cpu:.3f} ms = {our_cpu / raw_cpu:.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--decisions", type=int, default=400)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    n = args.decisions
    print(f"one decision + 4 votes per transaction, {n} transactions each, taking turns")
    with tempfile.TemporaryDirectory(prefix="ffe-bench-persist-") as tmp:
        db = Path(tmp) / "ffe.db"
        storage = SqlStorage(StorageSettings(url=f"sqlite+aiosqlite:///{db}"))
        await storage.migrate()
        try:
            async with sqlite_raw(db) as raw:
                runs = await interleaved({"raw": raw, "ffe": ffe_writer(storage)}, n)
        finally:
            await storage.close()
        report("SQLite (WAL, synchronous=NORMAL):", "raw aiosqlite", runs)
    if args.no_postgres:
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = "postgresql+asyncpg://{user}@{host}:{port}/{database}".format(**PG)
    storage = SqlStorage(StorageSettings(url=url, schema_name=schema))
    try:
        await storage.migrate()
        async with postgres_raw(schema) as raw:
            runs = await interleaved({"raw": raw, "ffe": ffe_writer(storage)}, n)
    finally:
        await storage.close()
        await drop(schema)
    report("PostgreSQL (loopback):", "raw asyncpg", runs)


if __name__ == "__main__":
    asyncio.run(main())
