"""Imported by the fork server only: load and exercise the agent once, so forks start warm."""

from __future__ import annotations

import contextlib
import os
import tempfile

import aiosqlite  # noqa: F401
import alembic.command  # noqa: F401
import asyncpg  # noqa: F401
import pytest  # noqa: F401 - children re-run the parent's main script (pytest's) on start

from ffe_entrypoints.cli.main import run
from tests.reliability.forked_cli import run_cli  # noqa: F401 - children unpickle it


def _warm_up() -> None:
    saved, cwd = dict(os.environ), os.getcwd()
    out, err = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(BaseException):
            os.chdir(tmp)
            os.environ["FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR"] = "0.2"
            run(["agent", "run", "--cycles", "1", "--interval", "0", "--json"])
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (out, err, null):
            os.close(fd)


_warm_up()
