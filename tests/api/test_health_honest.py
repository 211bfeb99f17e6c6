"""/health tells the truth: every component check exercises what it reports (storage takes a
write, Redis answers PING in time, the agent says whether it stopped on an error), and the
overall status is never better than the worst component."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_entrypoints.container import Container
from tests.api.conftest import api_settings, serving

Client = AsyncTestClient[Litestar]
AGENT_ENV = {"FFE_AGENT__INSTRUMENTS": '["BTC-USD"]', "FFE_AGENT__INTERVAL_SECONDS": "0.05"}
OK_MAX_AGE = 1.1  # a passing check is trusted for 1 s; wait that out before expecting a change


class AlwaysBuy:
    """A deterministic provider, so that every cycle trades (and writes)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(provider=self.name, action=Action.BUY, confidence=0.9, reasoning="t")


def buyers(container: Container) -> None:
    container.decision_providers.override(providers.Object({"a": AlwaysBuy("a")}))


async def health(client: Client) -> dict[str, Any]:
    response = await client.get("/health")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def wait_for_state(client: Client, state: str, seconds: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        status: dict[str, Any] = (await client.get("/api/bot/status")).json()
        if status["state"] == state:
            return status
        assert time.monotonic() < deadline, f"agent never reached {state}: {status}"
        await asyncio.sleep(0.05)


async def wait_for_cycles(client: Client, n: int) -> None:
    deadline = time.monotonic() + 15
    while (await client.get("/api/bot/status")).json()["cycles"] < n:
        assert time.monotonic() < deadline, "the agent did not cycle"
        await asyncio.sleep(0.05)


# storage ---------------------------------------------------------------------------------------


async def test_a_full_disk_makes_storage_down_and_ready_503(tmp_path: Path) -> None:
    """The disk holding the SQLite file has less room than storage needs (the free-space floor
    set above what the filesystem really has free): a rolled-back write cannot see that."""
    env = {"FFE_ADAPTERS__SQLITE__MIN_FREE_BYTES": str(10**18)}
    settings = api_settings(tmp_path, env)
    async with serving(settings) as (client, _):
        body = await health(client)
        storage = body["components"]["storage"]
        assert storage["status"] == "down"
        assert "disk full" in storage["detail"] and "min_free_bytes" in storage["detail"]
        assert body["status"] == "down"
        ready = await client.get("/ready")
        assert ready.status_code == 503 and ready.json() == {"status": "not ready"}


async def test_the_write_check_writes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        assert (await health(client))["components"]["storage"] == {"status": "ok", "detail": None}
        async with container.storage().engine.connect() as conn:
            left = await conn.exec_driver_sql(
                "SELECT count(*) FROM service_state WHERE key LIKE 'health.%'"
            )
            assert left.scalar() == 0


async def test_a_corrupted_database_is_down_not_ok(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        assert (await health(client))["components"]["storage"]["status"] == "ok"
        async with container.storage().engine.connect() as conn:  # the WAL holds no page now
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        with (tmp_path / "api.db").open("r+b") as db:
            db.write(b"\xde\xad\xbe\xef" * 25)  # garbage over the 100-byte header
        await asyncio.sleep(OK_MAX_AGE)
        body = await health(client)
        storage = body["components"]["storage"]
        assert storage["status"] == "down", body
        assert "not a database" in storage["detail"]
        assert body["status"] == "down"
        assert (await client.get("/ready")).status_code == 503


@contextmanager
def tiny_disk(path: Path, size: str = "4m") -> Iterator[Path]:
    """A real small filesystem (tmpfs); skips where mounting is not allowed (not root)."""
    path.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("cannot mount a small filesystem here")
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small filesystem here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10)


def fill(disk: Path) -> None:
    with (disk / "filler").open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass


async def test_on_a_really_full_disk_the_agent_stops_and_health_says_why(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        env = {
            **AGENT_ENV,
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{disk / 'ffe.db'}",
            "FFE_ADAPTERS__SQLITE__MIN_FREE_BYTES": str(64 * 1024),
        }
        async with serving(api_settings(tmp_path, env), buyers) as (client, _):
            assert (await client.post("/api/bot/start")).status_code == 200
            await wait_for_cycles(client, 1)
            fill(disk)
            status = await wait_for_state(client, "stopped")
            assert "disk is full" in status["last_error"]
            await asyncio.sleep(OK_MAX_AGE)
            body = await health(client)
            assert body["status"] == "down"
            storage, agent = body["components"]["storage"], body["components"]["agent"]
            assert storage["status"] == "down" and "disk full" in storage["detail"]
            assert agent["status"] == "down"
            assert "stopped on an error" in agent["detail"]
            assert "database or disk is full" in agent["detail"]
            assert (await client.get("/ready")).status_code == 503
            (disk / "filler").unlink()  # room again: storage recovers at once (never cached)
            assert (await health(client))["components"]["storage"]["status"] == "ok"


# redis -----------------------------------------------------------------------------------------


def redis_env(url: str) -> dict[str, str]:
    return {"FFE_MARKET_DATA__CACHE__BACKEND": "redis", "FFE_ADAPTERS__REDIS__URL": url}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_redis_down_degrades_health_with_the_reason(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with serving(api_settings(tmp_path, redis_env(url))) as (client, _):
        body = await health(client)
        cache = body["components"]["cache"]
        assert cache["status"] == "degraded"
        assert "redis unreachable" in cache["detail"]
        assert body["status"] == "degraded"
        assert (await client.get("/ready")).status_code == 200  # storage still takes writes


async def test_a_redis_that_never_answers_is_reported_within_its_bound(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (kernel backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        async with serving(api_settings(tmp_path, redis_env(url))) as (client, container):
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await container.cache().ping()
            assert time.monotonic() - started < 0.5  # PING is bounded at 200 ms
            body = await health(client)
            assert body["components"]["cache"]["status"] == "degraded"
            assert "TimeoutError" in body["components"]["cache"]["detail"]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return True
    except OSError:
        return False


@pytest.mark.redis
async def test_a_reachable_redis_is_ok(tmp_path: Path) -> None:
    if not _redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    settings = api_settings(tmp_path, redis_env("redis://127.0.0.1:6379/0"))
    async with serving(settings) as (client, _):
        body = await health(client)
        assert body["components"]["cache"] == {"status": "ok", "detail": None}
        assert body["status"] == "ok"


# agent -----------------------------------------------------------------------------------------


class FullDiskCommits:
    """The real unit of work, except that its commits fail (as SQLite's do on a full disk)
    once ``full`` is set."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory
        self.full = False

    def __call__(self) -> _Uow:
        return _Uow(self.factory(), self)


class _Uow:
    def __init__(self, inner: Any, disk: FullDiskCommits) -> None:
        self._inner, self._disk = inner, disk

    async def __aenter__(self) -> _Uow:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def commit(self) -> None:
        if self._disk.full:
            raise sqlite3.OperationalError("database or disk is full")
        await self._inner.commit()


@pytest.fixture
async def agent_api(
    tmp_path: Path,
) -> AsyncIterator[tuple[Client, Container, FullDiskCommits]]:
    holder: dict[str, FullDiskCommits] = {}

    def configure(container: Container) -> None:
        buyers(container)
        holder["disk"] = FullDiskCommits(container.storage().uow_factory)
        container.uow_factory.override(providers.Object(holder["disk"]))

    async with serving(api_settings(tmp_path, AGENT_ENV), configure) as (client, container):
        yield client, container, holder["disk"]
        await client.post("/api/bot/stop")


async def test_an_agent_stopped_by_an_error_makes_health_down_with_the_error(
    agent_api: tuple[Client, Container, FullDiskCommits],
) -> None:
    client, _, disk = agent_api
    assert (await client.post("/api/bot/start")).status_code == 200
    await wait_for_cycles(client, 1)
    disk.full = True
    await wait_for_state(client, "stopped")
    body = await health(client)
    agent = body["components"]["agent"]
    assert agent["status"] == "down"
    assert agent["detail"].startswith("AgentStoppedOnError: stopped on an error: OperationalError")
    assert "database or disk is full" in agent["detail"]
    assert body["status"] == "down"


async def test_running_paused_and_an_operators_stop_are_healthy(
    agent_api: tuple[Client, Container, FullDiskCommits],
) -> None:
    client, _, _ = agent_api
    assert (await health(client))["components"]["agent"] == {"status": "ok", "detail": "stopped"}
    await client.post("/api/bot/start")
    await wait_for_cycles(client, 1)
    await asyncio.sleep(OK_MAX_AGE)
    body = await health(client)
    assert body["components"]["agent"] == {"status": "ok", "detail": "running"}
    assert body["status"] == "ok"
    await client.post("/api/bot/pause")
    await asyncio.sleep(OK_MAX_AGE)
    assert (await health(client))["components"]["agent"]["detail"] == "paused"
    await client.post("/api/bot/stop")
    await asyncio.sleep(OK_MAX_AGE)
    body = await health(client)
    assert body["components"]["agent"] == {"status": "ok", "detail": "stopped"}
    assert body["status"] == "ok"


async def test_a_tripped_kill_switch_degrades_health_with_its_reason(
    agent_api: tuple[Client, Container, FullDiskCommits],
) -> None:
    client, container, _ = agent_api
    container.risk_manager().update_equity(Decimal("1000000"), container.clock().now())
    await client.post("/api/bot/start")
    await wait_for_state(client, "stopped")
    body = await health(client)
    agent = body["components"]["agent"]
    assert agent["status"] == "degraded"
    assert agent["detail"].startswith("kill switch tripped: drawdown")
    assert body["status"] == "degraded"
