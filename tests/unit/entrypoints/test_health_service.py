"""Health checks: passing checks are trusted briefly, failures are never cached."""

from __future__ import annotations

import asyncio

from ffe_entrypoints.services.health import HealthService
from tests.waiting import wait_until


class Flaky:
    def __init__(self) -> None:
        self.calls = 0
        self.down = False

    async def __call__(self) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("gone")


async def test_a_passing_check_is_reused_within_its_max_age_and_rerun_after() -> None:
    check = Flaky()
    now = [1000.0]
    health = HealthService(
        {"storage": check}, lambda: [], "paper", ok_max_age=0.2, now=lambda: now[0]
    )
    for _ in range(5):
        assert (await health.report())["status"] == "ok"
        now[0] += 0.03
    assert check.calls == 1
    now[0] = 1000.0 + 0.25
    await health.report()
    assert check.calls == 2


async def test_failures_are_never_cached_so_recovery_shows_at_once() -> None:
    check = Flaky()
    health = HealthService({"storage": check}, lambda: [], "paper", ok_max_age=60)
    check.down = True
    assert (await health.report())["status"] == "down"
    assert (await health.report())["status"] == "down"
    assert check.calls == 2
    check.down = False
    assert (await health.report())["status"] == "ok"
    assert await health.storage_ok()
    assert check.calls == 3


async def test_concurrent_probes_share_one_run_of_a_stale_check() -> None:
    """A probe storm on a stale check runs it once (it used to run once per request: 32
    concurrent storage writes on SQLite, each slower for the others)."""
    release = asyncio.Event()
    calls = 0

    async def slow() -> None:
        nonlocal calls
        calls += 1
        await release.wait()

    health = HealthService({"storage": slow}, lambda: [], "paper", ok_max_age=60)
    reports = [asyncio.ensure_future(health.report()) for _ in range(20)]
    await wait_until(lambda: calls >= 1, "the check to start")
    release.set()
    assert {(await r)["status"] for r in reports} == {"ok"}
    assert calls == 1
