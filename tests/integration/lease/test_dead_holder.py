"""A lease whose holder process died on this host is taken over at once, not after its TTL."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ffe_adapters.storage.sql.lease import SqlLeaderLease
from ffe_core.ports.lease import holder_is_gone
from tests.conftest import SQL_BACKENDS, open_sql_storage


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_holder_is_gone_only_for_dead_local_processes() -> None:
    host = socket.gethostname()
    assert holder_is_gone(f"{host}:{dead_pid()}:abc")
    assert not holder_is_gone(f"{host}:1:abc")  # pid 1 is alive
    assert not holder_is_gone(f"another-host.example:{dead_pid()}:abc")
    assert not holder_is_gone("garbage")


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_dead_holders_lease_is_taken_over_before_it_expires(
    backend: str, tmp_path: Path
) -> None:
    async with open_sql_storage(backend, tmp_path) as storage:
        ghost = f"{socket.gethostname()}:{dead_pid()}:dead01"
        crashed = SqlLeaderLease(storage.engine, "agent", 3600, holder=ghost)
        first = await crashed.acquire()
        assert first is not None and first.token == 1
        alive_elsewhere = SqlLeaderLease(
            storage.engine, "other", 3600, holder=f"{socket.gethostname()}:1:live01"
        )
        assert await alive_elsewhere.acquire() is not None
        successor = SqlLeaderLease(storage.engine, "agent", 3600)
        grant = await successor.acquire()
        assert grant is not None, "a dead holder's lease must not block for its whole TTL"
        assert grant.token == 2
        assert not await crashed.is_current(1)
        blocked = SqlLeaderLease(storage.engine, "other", 3600)
        assert await blocked.acquire() is None, "a live holder keeps its lease"
