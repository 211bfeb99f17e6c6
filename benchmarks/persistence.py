"""Decision persistence: one decision with 4 votes through ffe's SQL storage (unit of work,
repositories) next to the same rows written with the raw driver, in the same run.

Run: ``python -m benchmarks.persistence [--decisions 400] [--no-postgres]``.
SQLite: ``SqlStorage`` on a WAL file vs raw ``aiosqlite`` (same pragmas, same schema, one
INSERT, one executemany, COMMIT). PostgreSQL (127.0.0.1:5432, database ``test``, a throw-away
schema): ``SqlStorage`` vs raw ``asyncpg`` (a transaction with the same two statements). Both
sides serialise the decision to JSON the same way. Target: ffe ≤ 2x the raw driver.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
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


CPU_MS: dict[int, float] = {}
"""Process CPU time (every thread: the driver's worker included) per write, by sample list."""


async def timed(write: Callable[[Decision], Awaitable[None]], n: int) -> list[float]:
    for _ in range(20):  # warm-up: pools, statement caches
        await write(make_decision())
    samples = []
    decisions = [make_decision() for _ in range(n)]
    cpu = time.process_time()
    for d in decisions:
        start = time.perf_counter()
        await write(d)
        samples.append((time.perf_counter() - start) * 1000)
    CPU_MS[id(samples)] = (time.process_time() - cpu) * 1000 / n
    return samples


async def ffe_writes(storage: SqlStorage, n: int) -> list[float]:
    async def write(d: Decision) -> None:
        async with storage.uow_factory() as uow:
            await uow.decisions.add(d)
            await uow.commit()

    return await timed(write, n)


async def sqlite_raw(path: Path, n: int) -> list[float]:
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

        return await timed(write, n)


async def postgres_raw(schema: str, n: int) -> list[float]:
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
        return await timed(write, n)
    finally:
        await conn.close()


async def drop(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**PG)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def cpu_ms(*runs: list[float]) -> float:
    return statistics.fmean(CPU_MS[id(r)] for r in runs)


def line(name: str, ms: list[float], raw: list[float] | None = None) -> str:
    """Wall p50 (what a caller waits for) and CPU per write (steadier on a shared machine)."""
    p50 = statistics.median(ms)
    text = f"  {name:28} p50 {p50:6.2f} ms  mean {statistics.fmean(ms):6.2f} ms"
    if raw is not None:
        ratio = p50 / statistics.median(raw)
        verdict = "ok" if ratio <= TARGET else "MISS"
        text += f"  {ratio:4.2f}x raw (target <= {TARGET:g}x) {verdict}"
    return text


def cpu_line(ours: float, raw: float) -> str:
    return f"  CPU per write: ffe {ours:.3f} ms, raw {raw:.3f} ms = {ours / raw:.2f}x"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--decisions", type=int, default=400)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    n = args.decisions
    print(f"one decision + 4 votes per transaction, {n} transactions each")
    with tempfile.TemporaryDirectory(prefix="ffe-bench-persist-") as tmp:
        db = Path(tmp) / "ffe.db"
        storage = SqlStorage(StorageSettings(url=f"sqlite+aiosqlite:///{db}"))
        await storage.migrate()
        try:
            raw = await sqlite_raw(db, n)
            ours = await ffe_writes(storage, n)
            raw_again = await sqlite_raw(db, n)
        finally:
            await storage.close()
        print("SQLite (WAL, synchronous=NORMAL):")
        print(line("raw aiosqlite", raw + raw_again))
        print(line("ffe SqlStorage", ours, raw + raw_again))
        print(cpu_line(cpu_ms(ours), cpu_ms(raw, raw_again)))
    if args.no_postgres:
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = "postgresql+asyncpg://{user}@{host}:{port}/{database}".format(**PG)
    storage = SqlStorage(StorageSettings(url=url, schema_name=schema))
    try:
        await storage.migrate()
        raw = await postgres_raw(schema, n)
        ours = await ffe_writes(storage, n)
        raw_again = await postgres_raw(schema, n)
    finally:
        await storage.close()
        await drop(schema)
    print("PostgreSQL (loopback):")
    print(line("raw asyncpg", raw + raw_again))
    print(line("ffe SqlStorage", ours, raw + raw_again))
    print(cpu_line(cpu_ms(ours), cpu_ms(raw, raw_again)))


if __name__ == "__main__":
    asyncio.run(main())
