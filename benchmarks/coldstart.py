"""Cold start: ``ffe --help`` next to ``python -c 'import typer'``, and ``ffe serve`` until its
first ``/health`` 200 next to a bare Litestar app on uvicorn until its first 200, in one run.

Run: ``python -m benchmarks.coldstart [--runs 5]``. Each figure is the median of ``--runs``
fresh processes (the OS file cache is warm after the first; byte-code caches are used as they
would be on an installed system). ``ffe serve`` runs the embedded defaults with SQLite in a
temp directory and no agent. Targets: ``--help`` <= 3x ``import typer``; serve <= 2x bare.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.api import BARE_APP, free_port

HELP_TARGET = 3.0
SERVE_TARGET = 2.0


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def first_200(argv: list[str], port: int, path: str, env: dict[str, str], cwd: Path) -> float:
    """Seconds from spawning ``argv`` to its first 200 on ``path``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while not answers(port, path):
            if process.poll() is not None:
                raise SystemExit(f"{argv[:3]} exited with {process.returncode}")
            if time.perf_counter() - start > 60:
                raise SystemExit(f"{argv[:3]} did not answer {path} within 60 s")
            time.sleep(0.01)
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=15)


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "SENTRY"))}
    env.pop("FINANCE_FEEDBACK_API_KEY", None)
    ffe = [sys.executable, "-m", "ffe_entrypoints.cli.main"]
    typer_s = median(
        [run_once([sys.executable, "-c", "import typer"], env) for _ in range(args.runs)]
    )
    help_s = median([run_once([*ffe, "--help"], env) for _ in range(args.runs)])
    with tempfile.TemporaryDirectory(prefix="ffe-bench-cold-") as tmp:
        directory = Path(tmp)
        env.update(
            FFE_CONFIG_DIR=str(directory),
            FFE_STORAGE__URL=f"sqlite+aiosqlite:///{directory / 'cold.db'}",
            FFE_LOGGING__LEVEL="WARNING",
        )
        bare, serve = [], []
        for _ in range(args.runs):
            port = free_port()
            bare.append(
                first_200(
                    [sys.executable, "-c", BARE_APP, str(port)], port, "/ping", env, directory
                )
            )
            port = free_port()
            argv = [*ffe, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-agent"]
            serve.append(first_200(argv, port, "/health", env, directory))
    bare_s, serve_s = median(bare), median(serve)
    print(f"medians of {args.runs} fresh processes")
    rows = [
        ("python -c 'import typer'", typer_s, None, None),
        ("ffe --help", help_s, help_s / typer_s, HELP_TARGET),
        ("bare Litestar + uvicorn -> first 200", bare_s, None, None),
        ("ffe serve -> first /health 200", serve_s, serve_s / bare_s, SERVE_TARGET),
    ]
    for name, seconds, ratio, target in rows:
        line = f"  {name:38} {seconds:6.2f} s"
        if ratio is not None and target is not None:
            verdict = "ok" if ratio <= target else "MISS"
            line += f"  {ratio:5.1f}x (target <= {target:g}x) {verdict}"
        print(line)


if __name__ == "__main__":
    main()
