"""Cold start: ``ffe --help`` next to ``python -c 'import typer'``, and ``ffe serve`` until its
first ``/health`` 200 next to a bare Litestar app on uvicorn until its first 200, in one run.

Run: ``python -m benchmarks.coldstart [--runs 5]``. Each figure is the median of ``--runs``
fresh processes (the OS file cache is warm after the first). ffe's sources are byte-compiled
first, as ``pip install`` does on an installed system: with ``PYTHONDONTWRITEBYTECODE`` set (as
in CI and the Docker image), an editable checkout would otherwise compile ~250 modules from
source in every process, which no installed ffe does. ``ffe serve`` runs the embedded defaults
with SQLite in a temp directory and ``--no-agent`` (``agent.own_process`` as shipped: the idle
agent process is spawned once the server listens; its CPU is not the server's). Targets:
``--help`` <= 3x ``import typer``; serve <= 2x bare. Besides wall time, each process's own CPU
time until it answered is shown (Linux ``/proc``): on a shared machine it is the steadier ratio.
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ffe_adapters
import ffe_core
import ffe_entrypoints
from benchmarks.api import BARE_APP, free_port
from benchmarks.fresh_process import cpu_of, run_timed

HELP_TARGET = 3.0
SERVE_TARGET = 2.0


def byte_compile() -> None:
    """Write the ``.pyc`` files of ffe's packages, as installing ffe does."""
    for package in (ffe_core, ffe_adapters, ffe_entrypoints):
        compileall.compile_dir(Path(package.__file__).parent, quiet=1)


def answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def first_200(
    argv: list[str], port: int, path: str, env: dict[str, str], cwd: Path
) -> tuple[float, float]:
    """Seconds from spawning ``argv`` to its first 200 on ``path``, and the CPU seconds the
    process had used by then."""
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
        return time.perf_counter() - start, cpu_of(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall time and the median CPU time of ``samples``."""
    return (
        statistics.median(wall for wall, _ in samples),
        statistics.median(cpu for _, cpu in samples),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    byte_compile()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "SENTRY"))}
    env.pop("FINANCE_FEEDBACK_API_KEY", None)
    ffe = [sys.executable, "-m", "ffe_entrypoints.cli.main"]
    load_before = os.getloadavg()[0]
    typer_s = median(
        [run_timed([sys.executable, "-c", "import typer"], env=env) for _ in range(args.runs)]
    )
    help_s = median([run_timed([*ffe, "--help"], env=env) for _ in range(args.runs)])
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
    print(
        f"medians of {args.runs} fresh processes; load average {load_before:.1f} -> "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    rows = [
        ("python -c 'import typer'", typer_s, None, None),
        ("ffe --help", help_s, typer_s, HELP_TARGET),
        ("bare Litestar + uvicorn -> first 200", bare_s, None, None),
        ("ffe serve -> first /health 200", serve_s, bare_s, SERVE_TARGET),
    ]
    print(f"  {'':38} {'wall':>8} {'ratio':>6}   {'CPU':>6} {'ratio':>6}")
    for name, (wall, cpu), peer, target in rows:
        line = f"  {name:38} {wall:6.2f} s {'':6}   {cpu:4.2f} s"
        if peer is not None and target is not None:
            ratio, cpu_ratio = wall / peer[0], cpu / peer[1]
            verdict = "ok" if ratio <= target else "MISS"
            line = (
                f"  {name:38} {wall:6.2f} s {ratio:5.1f}x   {cpu:4.2f} s {cpu_ratio:5.1f}x"
                f"  (target <= {target:g}x wall) {verdict}"
            )
        print(line)


if __name__ == "__main__":
    main()
