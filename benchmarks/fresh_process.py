"""Timing a fresh process: its wall time and the CPU time it used (Linux), the one runner the
whole-process benchmarks share (``coldstart``, ``backtest_process``).

CPU time is user + system of the process and all its threads: on a shared machine it is the
steadier figure, since time spent waiting for a core is not in it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def run_timed(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv`` to its exit (its stdout discarded, its CPU
    from ``wait4``); a non-zero exit stops the benchmark with the tail of its stderr."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{list(argv[:3])} exited with {process.returncode}: {err.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def cpu_of(pid: int) -> float:
    """User + system CPU seconds the running process ``pid`` has used so far (``/proc``), for a
    process that is still running (a server measured until it answers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS
