"""Run ``ffe`` commands in processes forked from a warmed-up fork server (tests only).

A cold ``ffe`` process spends seconds importing; the crash suite restarts the agent dozens of
times, so every run is forked from a server that has already imported (and once exercised) the
CLI. Each child is still a separate process running the ``ffe`` entry point with its own
environment and working directory, and it is killed with a real SIGKILL.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from collections.abc import Mapping
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path

import ffe_entrypoints.cli.main as cli_main
from ffe_adapters.brokers.paper.execution import PaperBroker
from ffe_core.domain.orders import Order

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = "tests.reliability.forkserver_warm"


def give_the_venue_latency(seconds: float) -> None:
    """Make the paper venue take ``seconds`` per order, half on the way in (before it has the
    order) and half on the way back (it has it), as a network venue does; the paper venue
    otherwise answers in microseconds, so a kill would almost never land while an order is out."""
    submit = PaperBroker.submit_order

    async def slow_submit(self: PaperBroker, order: Order) -> Order:
        await asyncio.sleep(seconds / 2)
        accepted = await submit(self, order)
        await asyncio.sleep(seconds / 2)
        return accepted

    PaperBroker.submit_order = slow_submit  # type: ignore[method-assign]


def run_cli(
    argv: list[str],
    env: Mapping[str, str],
    cwd: str,
    out: str,
    err: str,
    venue_latency: float = 0.0,
) -> None:
    """Child body: clean ``FFE_*`` environment plus ``env``, output to files, run ``ffe`` (with
    ``venue_latency`` seconds per paper order when > 0)."""
    for target, path in ((1, out), (2, err)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, target)
        os.close(fd)
    for name in [n for n in os.environ if n.startswith("FFE_")]:
        del os.environ[name]
    os.environ.update(env)
    os.chdir(cwd)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the child exits with it
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    if venue_latency > 0:
        give_the_venue_latency(venue_latency)
    cli_main.run(argv)


def fork_context() -> ForkServerContext:
    """The fork server context, its server started with the warm-up module preloaded."""
    ctx = multiprocessing.get_context("forkserver")
    assert isinstance(ctx, ForkServerContext)
    ctx.set_forkserver_preload([PRELOAD])
    # Python 3.11's fork server does not apply the parent's sys.path before preloading.
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), previous) if p)
    try:
        from multiprocessing import forkserver

        forkserver.ensure_running()
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous
    return ctx


def start_cli(
    ctx: ForkServerContext,
    argv: list[str],
    env: Mapping[str, str],
    cwd: Path,
    venue_latency: float = 0.0,
) -> BaseProcess:
    """Start ``ffe <argv>`` in ``cwd``; its stdout and stderr go to ``cwd/out.txt``/``err.txt``."""
    out, err = str(cwd / "out.txt"), str(cwd / "err.txt")
    for path in (out, err):
        Path(path).write_text("")
    proc = ctx.Process(
        target=run_cli, args=(argv, dict(env), str(cwd), out, err, venue_latency), daemon=True
    )
    proc.start()
    return proc
