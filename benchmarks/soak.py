"""Soak: ``ffe serve --agent`` under a bounded loopback load; reports req/s, p99, RSS growth, errors
and the agent's cadence (cycles/s) under the load against the same server idle.

Not part of ``make test``. Run: ``.venv/bin/python benchmarks/soak.py --seconds 60``.
The server runs in a temporary directory on SQLite with the bundled replay (one bar every
0.2 s, so the agent trades); ``--concurrency`` clients loop over read endpoints. Memory growth is
the mean RSS of the last third of the run against the first third (after warm-up).
Cadence: the agent's cycle count over ``--idle`` seconds with no clients, then over the loaded
window; the ratio is what the API load costs the agent (issue target: at least 80 %). The agent
runs in its own process (``agent.own_process``, the default); ``--inline`` puts it back on the
API's event loop (``FFE_AGENT__OWN_PROCESS=false``), the design before, for comparison. Memory
counts the server and its agent process.
Exit status 1 when there were errors or memory grew by more than ``--max-growth`` (default 10 %).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PATHS = (
    "/health",
    "/api/v1/status",
    "/api/v1/positions",
    "/api/v1/decisions?limit=20",
    "/api/bot/status",
    "/api/v1/providers",
    "/metrics",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    """The resident memory of ``pid`` and its descendants (the server and its agent process)."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += rss_kib(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass  # a process that just ended
    return total


async def wait_ready(base: str, proc: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited early with {proc.returncode}")
            try:
                if (await client.get("/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("server not ready in time")


async def load(base: str, seconds: float, concurrency: int) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + seconds

    async def client_loop(k: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            i = k
            while time.monotonic() < stop:
                path = PATHS[i % len(PATHS)]
                i += 1
                started = time.perf_counter()
                try:
                    r = await client.get(path)
                    if r.status_code >= 400:
                        errors.append(f"{path}: HTTP {r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client_loop(k) for k in range(concurrency)))
    return latencies, errors


async def cycles(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/bot/status")).json().get("cycles", 0))


async def sample_rss(pid: int, seconds: float, out: list[int]) -> None:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        out.append(rss_kib(pid))
        await asyncio.sleep(1)


def start_server(
    workdir: Path, port: int, *, inline: bool, niceness: int | None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    env.update(
        FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR="0.2",
        FFE_AGENT__INTERVAL_SECONDS="0.5",
        FFE_AGENT__OWN_PROCESS="false" if inline else "true",
        FFE_API__RATE_LIMIT_PER_MINUTE="100000000",
        FFE_LOGGING__LEVEL="WARNING",
    )
    if niceness is not None:
        env["FFE_API__NICENESS"] = str(niceness)
    argv = [sys.executable, "-m", "ffe_entrypoints.cli.main", "serve", "--agent"]
    with open(workdir / "server.log", "wb") as log:
        return subprocess.Popen(
            [*argv, "--port", str(port)], cwd=workdir, env=env, stdout=log, stderr=log
        )


async def measure(
    args: argparse.Namespace, base: str, proc: subprocess.Popen[bytes]
) -> dict[str, object]:
    await wait_ready(base, proc)
    await load(base, args.warmup, args.concurrency)  # warm-up, not measured
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        idle_from, idle_at = await cycles(client), time.monotonic()
        await asyncio.sleep(args.idle)
        idle_to = await cycles(client)
        idle_rate = (idle_to - idle_from) / (time.monotonic() - idle_at)
    rss: list[int] = []
    started = time.monotonic()
    (latencies, errors), _ = await asyncio.gather(
        load(base, args.seconds, args.concurrency), sample_rss(proc.pid, args.seconds, rss)
    )
    elapsed = time.monotonic() - started
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        bot = (await client.get("/api/bot/status")).json()
        fills = len((await client.get("/api/v1/fills")).json()["items"])
    loaded_rate = (int(bot.get("cycles", 0)) - idle_to) / elapsed
    return {
        "idle_rate": idle_rate,
        "loaded_rate": loaded_rate,
        "latencies": latencies,
        "errors": errors,
        "rss": rss,
        "elapsed": elapsed,
        "bot": bot,
        "fills": fills,
    }


def main(args: argparse.Namespace) -> int:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(Path(tmp), port, inline=args.inline, niceness=args.niceness)
        try:
            m = asyncio.run(measure(args, f"http://127.0.0.1:{port}", proc))
            alive = proc.poll() is None
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    latencies, errors, rss = m["latencies"], m["errors"], m["rss"]
    assert isinstance(latencies, list) and isinstance(errors, list) and isinstance(rss, list)
    elapsed, bot = float(m["elapsed"]), m["bot"]  # type: ignore[arg-type]
    assert isinstance(bot, dict)
    third = max(1, len(rss) // 3)
    first, last = statistics.mean(rss[:third]), statistics.mean(rss[-third:])
    growth = (last - first) / first
    p50, p99 = (statistics.quantiles(latencies, n=100)[i] * 1000 for i in (49, 98))
    where = "on the API's event loop" if args.inline else "in its own process"
    if not args.inline and args.niceness is not None:
        where += f", api.niceness {args.niceness}"
    print(f"duration        {elapsed:.1f} s, {args.concurrency} clients, server alive: {alive}")
    print(
        f"agent runs      {where}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"requests        {len(latencies)} ({len(latencies) / elapsed:.1f} req/s)")
    print(f"latency         p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"errors          {len(errors)} {sorted(set(errors))[:5]}")
    print(
        f"rss             first third {first / 1024:.1f} MiB, last third {last / 1024:.1f} MiB "
        f"({growth:+.1%})"
    )
    print(
        f"agent           state {bot.get('state')}, cycles {bot.get('cycles')}, fills {m['fills']}"
    )
    idle_rate, loaded_rate = float(m["idle_rate"]), float(m["loaded_rate"])  # type: ignore[arg-type]
    print(
        f"cadence         idle {idle_rate:.2f} cycles/s, under load {loaded_rate:.2f} cycles/s "
        f"({loaded_rate / idle_rate if idle_rate else float('nan'):.0%} of idle)"
    )
    return 0 if alive and not errors and growth <= args.max_growth else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-growth", type=float, default=0.10)
    parser.add_argument(
        "--niceness", type=int, default=None, help="api.niceness (default: the setting's)"
    )
    parser.add_argument(
        "--inline", action="store_true", help="the agent on the API's event loop (before)"
    )
    sys.exit(main(parser.parse_args()))
