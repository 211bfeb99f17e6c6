"""Backtest isolation: the agent's cadence and the API's latency with a full backtest queue.

Run: ``.venv/bin/python benchmarks/backtest_isolation.py [--seconds 15] [--rounds 3]``.
The real app and agent run in this process (paper broker, embedded defaults, SQLite in a temp
directory, bundled data; only ``agent.interval_seconds`` is lowered so that the agent's cadence
is bound by its own work). ``--rounds`` pairs of windows of ``--seconds`` each alternate
*idle* (no backtests) and *full queue* (``backtests.workers`` running plus
``backtests.max_queued`` waiting walk-forward jobs of 5000 bars, each as large as
``backtests.max_work`` allows, topped up as they finish and cancelled at the window's end).
Each phase measures the agent's cycles per second and the latency of ``GET /api/bot/status``
polled every 50 ms. Targets: cadence under the full queue >= 80 % of idle, p99 < 250 ms.
The peer is the design this replaced: a third phase runs the same jobs, as many at once, on
threads of the API process (``asyncio.to_thread``, each search on every core's thread, as
``run_search`` does by default); ``--no-threads`` skips it. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.backtest.data import Bars, bars_of
from ffe_core.backtest.search import grid
from ffe_core.backtest.simulator import FillConfig
from ffe_core.backtest.strategies import sma_cross, spec_for
from ffe_core.backtest.walk_forward import walk_forward
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import build_container
from ffe_entrypoints.settings import load_settings

Client = AsyncTestClient[Litestar]
FINISHED = {"done", "failed", "cancelled"}


def job_body(max_work: int) -> dict[str, Any]:
    """A walk-forward over 5000 bars with as many sma_cross combinations as max_work allows."""
    combinations = max(1, min(5000, max_work // 5000))
    slow = list(range(60, 160))
    fast = list(range(2, 2 + max(1, combinations // len(slow))))
    return {"kind": "walk_forward", "bars": 5000, "grid": {"fast": fast, "slow": slow}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def cycles(client: Client) -> int:
    return int((await client.get("/api/bot/status")).json()["cycles"])


class Phase:
    """Agent cycles, wall time and ``GET /api/bot/status`` latencies (ms) over some windows."""

    def __init__(self) -> None:
        self.cycles = 0
        self.seconds = 0.0
        self.latencies: list[float] = []

    @property
    def rate(self) -> float:
        return self.cycles / self.seconds if self.seconds else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    async def window(self, client: Client, seconds: float) -> None:
        """Poll the status every 50 ms for ``seconds``; count the agent's cycles meanwhile."""
        start_cycles, started = await cycles(client), time.monotonic()
        while time.monotonic() - started < seconds:
            t0 = time.perf_counter()
            response = await client.get("/api/bot/status")
            self.latencies.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.05)
        self.cycles += await cycles(client) - start_cycles
        self.seconds += time.monotonic() - started


async def keep_queue_full(
    client: Client, body: dict[str, Any], size: int, submits: list[float], stop: asyncio.Event
) -> None:
    """Submit jobs until ``size`` are queued or running, top up as they finish; on ``stop``
    cancel them all (``DELETE``) and return once the worker has let go of them."""
    active: set[str] = set()
    while not stop.is_set():
        while len(active) < size:
            t0 = time.perf_counter()
            response = await client.post("/api/v1/backtests", json=body)
            submits.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 202:
                raise SystemExit(f"submission refused: {response.status_code} {response.text}")
            active.add(response.json()["id"])
        listed = (await client.get("/api/v1/backtests")).json()["items"]
        active -= {j["id"] for j in listed if j["status"] in FINISHED}
        await asyncio.sleep(0.5)
    for job_id in active:
        await client.delete(f"/api/v1/backtests/{job_id}")


async def wait_running(client: Client, limit: float = 120) -> None:
    """Until a worker is computing (past its start-up), so the measurement sees steady state."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        listed = (await client.get("/api/v1/backtests")).json()["items"]
        if any(j["status"] == "running" and j["progress"] > 0 for j in listed):
            return
        await asyncio.sleep(0.2)
    raise SystemExit("no backtest job started computing in time")


class Stopped(Exception):
    """Ends a thread job early once the phase is over (threads cannot be cancelled)."""


async def load_bars(container: Any, limit: int) -> Bars:
    settings = container.settings()
    instrument = settings.instrument("BTC-USD")
    raw = await container.market_data().get_bars(
        instrument, settings.market_data.interval, limit=limit
    )
    return bars_of(raw)


async def keep_threads_busy(
    container: Any, body: dict[str, Any], size: int, stop: asyncio.Event
) -> None:
    """The replaced design: ``size`` walk-forwards at once on threads of this process."""
    bars = await load_bars(container, int(body["bars"]))
    spec = spec_for("sma_cross")
    candidates = grid(body["grid"], spec.constraint)
    cfg = FillConfig(cash=10_000.0, commission=0.001, unit_step=0.0)
    n = len(bars)

    def strategy(*args: Any, **kwargs: Any) -> Any:
        if stop.is_set():
            raise Stopped
        return sma_cross(*args, **kwargs)

    def job() -> None:
        walk_forward(
            bars,
            strategy,
            candidates,
            cfg,
            in_sample=max(50, n * 2 // 5),
            out_of_sample=max(20, n // 5),
            warmup=spec.warmup,
        )

    async def lane() -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(job)
            except Stopped:
                return

    await asyncio.gather(*(lane() for _ in range(size)))


async def measure(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    settings = load_settings(
        directory,
        environ={
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{directory / 'bench.db'}",
            "FFE_AGENT__INTERVAL_SECONDS": str(args.interval),
            "FFE_API__RATE_LIMIT_PER_MINUTE": "100000000",
            "FFE_LOGGING__LEVEL": "ERROR",
        },
    )
    limits = settings.backtests
    size = limits.workers + limits.max_queued
    body = job_body(limits.max_work)
    container = build_container(settings)
    app = create_app(container, start_agent=True)
    idle, busy, threads = Phase(), Phase(), Phase()
    submits: list[float] = []
    refused = 0
    async with AsyncTestClient(app, timeout=60) as client:
        await asyncio.sleep(args.warmup)  # agent start-up, first cycles
        # idle and full-queue windows alternate, so that a change in the machine's other load
        # falls on both alike
        for _ in range(args.rounds):
            await idle.window(client, args.seconds)
            stop = asyncio.Event()
            feeder = asyncio.create_task(keep_queue_full(client, body, size, submits, stop))
            await wait_running(client)
            await busy.window(client, args.seconds)
            refused = (await client.post("/api/v1/backtests", json=body)).status_code
            stop.set()
            await feeder
        await container.backtest_service().close()
        if args.threads:
            stop_threads = asyncio.Event()
            lanes = asyncio.create_task(keep_threads_busy(container, body, size, stop_threads))
            await asyncio.sleep(2)  # bars loaded, searches under way
            await threads.window(client, args.seconds)
            stop_threads.set()
            await lanes
    return {
        "settings": limits,
        "body": body,
        "idle": idle,
        "busy": busy,
        "threads": threads if args.threads else None,
        "submits": submits,
        "refused": refused,
    }


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        m = asyncio.run(measure(args, Path(tmp)))
    limits, body = m["settings"], m["body"]
    idle, busy, threads = m["idle"], m["busy"], m["threads"]
    combos = len(body["grid"]["fast"]) * len(body["grid"]["slow"])
    cadence = busy.rate / idle.rate
    print(
        f"queue           {limits.workers} worker(s) + {limits.max_queued} queued walk-forward "
        f"jobs of 5000 bars x {combos} combinations (max_work {limits.max_work}); "
        f"{args.rounds} x {args.seconds:.0f} s per phase"
    )
    print(f"agent cadence   idle {idle.rate:.2f} cycles/s, full queue {busy.rate:.2f} cycles/s")
    print(f"                ratio {cadence:.2f} (target >= 0.80)")
    print(
        f"bot/status      idle p50 {idle.p(0.5):.1f} ms p99 {idle.p(0.99):.1f} ms; "
        f"full queue p50 {busy.p(0.5):.1f} ms p99 {busy.p(0.99):.1f} ms "
        f"(target < 250 ms); p99 ratio {busy.p(0.99) / idle.p(0.99):.2f}"
    )
    print(
        f"submissions     {len(m['submits'])}, p50 {statistics.median(m['submits']):.1f} ms, "
        f"max {max(m['submits']):.1f} ms; one past the queue: HTTP {m['refused']}"
    )
    if threads is not None:
        print(
            f"peer: threads   cadence {threads.rate:.2f} cycles/s (ratio {threads.rate / idle.rate:.2f}), "
            f"bot/status p99 {threads.p(0.99):.1f} ms; worker processes: "
            f"{busy.rate / max(threads.rate, 1e-9):.1f}x the cadence, "
            f"{threads.p(0.99) / busy.p(0.99):.1f}x lower p99"
        )
    ok = cadence >= 0.8 and busy.p(0.99) < 250 and m["refused"] == 429
    print("result          " + ("targets met" if ok else "TARGET MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":  # required: the backtest workers are spawned processes
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per window")
    parser.add_argument("--rounds", type=int, default=3, help="idle/full-queue window pairs")
    parser.add_argument("--interval", type=float, default=0.1, help="agent.interval_seconds")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--no-threads", dest="threads", action="store_false", help="skip the peer")
    sys.exit(main(parser.parse_args()))
