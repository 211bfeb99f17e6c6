"""API throughput and latency: ffe's routes next to a bare Litestar endpoint (the framework
ceiling), all served by uvicorn on loopback in the same run, each with its target ratio.

Run: ``python benchmarks/api.py [--seconds 42] [--concurrency 32] [--decisions 500]``.
``--seconds`` is the whole measured time, split evenly over the targets (``/live``, which
does no I/O, shows the cost of ffe's middleware stack alone). The bare endpoint is measured
first and last; ratios are against the faster of the two. The ffe server runs ``ffe serve`` with the
embedded defaults (SQLite in a temp directory, paper broker, bundled data) and the API key on
(protected routes send it; public ones do not), seeded with ``--decisions`` decisions. The load generator
is ``wrk`` when installed (``apt-get install wrk``; ``--loader httpx`` to force the fallback),
otherwise httpx on asyncio in this process; either way it shares the machine's CPU with the
servers, so compare the ratios, not the absolute figures, across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BARE_APP = """
import sys
import uvicorn
from litestar import Litestar, get

@get("/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"status": "ok"}

uvicorn.run(Litestar([ping]), host="127.0.0.1", port=int(sys.argv[1]), log_config=None,
            access_log=False)
"""


API_KEY = "bench-api-key-0123456789"
ROUTES: tuple[tuple[str, str, float], ...] = (
    ("/live", "/live", 0.50),
    ("/health", "/health", 0.50),
    ("/metrics", "/metrics", 0.50),
    ("/api/v1/status", "/api/v1/status", 0.25),
    ("/api/v1/positions", "/api/v1/positions", 0.25),
    ("/api/v1/decisions?limit=50", "/api/v1/decisions?limit=50", 0.20),
)
"""(name, path, target ratio to bare Litestar) for every measured ffe route."""
TARGETS = {name: target for name, _, target in ROUTES}


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    p50_ms: float | None = None  # given by wrk; computed from ``latencies_ms`` otherwise
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        given = {0.50: self.p50_ms, 0.99: self.p99_ms}.get(q)
        if given is not None:
            return given
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:g} s")


@contextmanager
def server(command: list[str], env: dict[str, str], cwd: Path, probe: str) -> Iterator[None]:
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_up(probe, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def load(
    name: str, url: str, seconds: float, concurrency: int, headers: dict[str, str]
) -> Result:
    """``concurrency`` keep-alive workers hitting ``url`` back to back for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10, headers=headers) as client:
        warm_until = time.perf_counter() + min(1.0, seconds / 5)
        while time.perf_counter() < warm_until:
            await client.get(url)
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                start = time.perf_counter()
                try:
                    response = await client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - start) * 1000)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, len(latencies), errors, elapsed, latencies)


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_ms(text: str, label: str) -> float:
    """A latency line of ``wrk --latency`` (e.g. ``99%  12.34ms``) in milliseconds."""
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"cannot read {label!r} from wrk output:\n{text}")
    return float(found.group(1)) * WRK_UNITS[found.group(2)]


def load_wrk(
    name: str, url: str, seconds: float, concurrency: int, headers: dict[str, str]
) -> Result:
    """The same load with wrk (2 threads, ``concurrency`` connections); percentiles from wrk."""
    given = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    base = ["wrk", "-t2", f"-c{concurrency}", *given, "--latency", url]
    subprocess.run([*base[:-2], "-d1s", url], check=True, capture_output=True)  # warm-up
    out = subprocess.run(
        [*base[:-2], f"-d{max(1, round(seconds))}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(s|m)", out)
    if total is None:
        raise SystemExit(f"cannot read the request count from wrk output:\n{out}")
    elapsed = float(total.group(2)) * (60 if total.group(3) == "m" else 1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    p50, p99 = wrk_ms(out, "50%"), wrk_ms(out, "99%")
    return Result(name, int(total.group(1)), errors, elapsed, [], p50_ms=p50, p99_ms=p99)


def seed(base: str, decisions: int) -> None:
    symbols = ["BTC-USD", "ETH-USD", "EUR-USD", "AAPL"]
    with httpx.Client(base_url=base, timeout=60, headers={"X-API-Key": API_KEY}) as client:
        for i in range(decisions):
            response = client.post("/api/v1/decisions", json={"instrument": symbols[i % 4]})
            response.raise_for_status()


def report(bare: list[Result], results: list[Result], concurrency: int, loader: str) -> None:
    ceiling = max(r.rate for r in bare)  # the better of the two: ratios err low, not high
    print(
        f"\nloopback, uvicorn (1 worker each), {loader} load generator, concurrency {concurrency}"
    )
    print("bare Litestar GET /ping: " + " · ".join(f"{r.rate:.0f}" for r in bare) + " req/s")
    header = (
        f"{'endpoint':34} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'vs bare':>8} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        target = TARGETS.get(r.name, 0.0)
        ratio = r.rate / ceiling
        verdict = "" if not target else ("ok" if ratio >= target and not r.errors else "MISS")
        print(
            f"{r.name:34} {r.requests:>9} {r.errors:>7} {r.rate:>9.0f} "
            f"{r.percentile(0.50):>8.2f} {r.percentile(0.99):>8.2f} {ratio:>7.0%} "
            f"{target:>6.0%} {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=40.0, help="total measured time")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--decisions", type=int, default=500, help="decisions to seed")
    parser.add_argument("--loader", choices=["auto", "wrk", "httpx"], default="auto")
    args = parser.parse_args()
    per_target = args.seconds / (len(ROUTES) + 2)
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "httpx"

    def measure(name: str, url: str, headers: dict[str, str] | None = None) -> Result:
        if loader == "wrk":
            return load_wrk(name, url, per_target, args.concurrency, headers or {})
        return asyncio.run(load(name, url, per_target, args.concurrency, headers or {}))

    with tempfile.TemporaryDirectory(prefix="ffe-bench-api-") as tmp:
        directory = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "SENTRY"))}
        env.pop("FINANCE_FEEDBACK_API_KEY", None)
        env.update(
            {
                "FFE_CONFIG_DIR": str(directory),
                "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{directory / 'bench.db'}",
                "FFE_API__RATE_LIMIT_PER_MINUTE": "100000000",
                "FFE_LOGGING__LEVEL": "WARNING",
                "FINANCE_FEEDBACK_API_KEY": API_KEY,
            }
        )
        bare_port, ffe_port = free_port(), free_port()
        bare = f"http://127.0.0.1:{bare_port}"
        ffe = f"http://127.0.0.1:{ffe_port}"
        ffe_cmd = [sys.executable, "-m", "ffe_entrypoints.cli.main", "serve"]
        ffe_cmd += ["--host", "127.0.0.1", "--port", str(ffe_port), "--no-agent"]
        results: list[Result] = []
        bare_runs: list[Result] = []
        bare_cmd = [sys.executable, "-c", BARE_APP, str(bare_port)]
        with server(bare_cmd, env, directory, f"{bare}/ping"):
            bare_runs.append(measure("bare Litestar GET /ping", f"{bare}/ping"))
        with server(ffe_cmd, env, directory, f"{ffe}/live"):
            seed(ffe, args.decisions)
            key = {"X-API-Key": API_KEY}
            for name, path, _ in ROUTES:
                results.append(measure(name, ffe + path, key if path.startswith("/api") else None))
        with server(bare_cmd, env, directory, f"{bare}/ping"):
            bare_runs.append(measure("bare Litestar GET /ping", f"{bare}/ping"))
    report(bare_runs, results, args.concurrency, loader)


if __name__ == "__main__":
    main()
