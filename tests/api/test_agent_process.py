"""`ffe serve`'s agent in its own process: the API's control plane reaches it (start, stop,
pause within 1 s), concurrent starts make one run, its death is reported by /health and the
status route and a start brings a new one, its gauges appear on the API's /metrics, approvals
resolved by the API are sent by it, and it ends with the server (or when the server is gone).

The app runs in the test's loop (lifespan entered here, requests through ``httpx.ASGITransport``)
so that concurrent requests really are concurrent; the agent process is a real child process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ffe_core.config import Settings
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.services.agent_process import AgentProcess
from ffe_entrypoints.services.process_control import AgentProcessControl
from tests.api.conftest import api_settings, in_loop
from tests.api.test_agent_single_run import cli_reset, observer, run_states, status
from tests.api.test_control_without_redis import silent_redis
from tests.waiting import wait_until

CONTROL_BUDGET = 1.0  # seconds for stop / pause, as in-process
ASKING = {"FFE_APPROVALS__POLICY": "always", "FFE_APPROVALS__MAX_PRICE_DRIFT": "1"}
"""Every order waits for an approval, sent at any price drift (storage: SQLite in tmp_path)."""


def settings_for(tmp_path: Path, storage_env: dict[str, str], **extra: str) -> Settings:
    return api_settings(
        tmp_path,
        {
            **storage_env,
            "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
            "FFE_AGENT__INTERVAL_SECONDS": "0.05",
            "FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR": "0.2",
            "FFE_API__NICENESS": "0",  # the test runner keeps its priority
            **extra,
        },
    )


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    container = build_container(settings, agent_in_child=True)
    async with in_loop(create_app(container, start_agent=False)) as client:
        yield client, container


def agent_process(container: Container) -> AgentProcessControl:
    control = container.control()
    assert isinstance(control, AgentProcessControl)
    return control


async def cycles_advance(client: httpx.AsyncClient, more: int = 2) -> dict[str, Any]:
    first = (await status(client))["cycles"]

    async def advanced() -> dict[str, Any] | None:
        now = await status(client)
        return now if now["state"] == "running" and now["cycles"] >= first + more else None

    return await wait_until(advanced, "the agent process's cycles to advance")


async def test_the_agent_runs_in_its_own_process_and_stops_and_pauses_within_a_second(
    tmp_path: Path, storage_env: dict[str, str]
) -> None:
    async with (
        served(settings_for(tmp_path, storage_env)) as (client, container),
        observer(storage_env) as db,
    ):
        started = await client.post("/api/bot/start")
        assert started.status_code == 200, started.text
        run_id = started.json()["run_id"]
        await cycles_advance(client)
        control = agent_process(container)
        assert control.process.pid not in (None, os.getpid())
        assert not control.local.running  # nothing trades on the API's loop

        t0 = time.monotonic()
        paused = await client.post("/api/bot/pause")
        assert time.monotonic() - t0 < CONTROL_BUDGET
        assert paused.json()["state"] == "paused"
        held = (await status(client))["cycles"]
        assert (await client.post("/api/bot/resume")).json()["state"] == "running"
        await wait_until(lambda: _cycles_above(client, held), "cycles to go on after resume")

        t0 = time.monotonic()
        stopped = await client.post("/api/bot/stop")
        assert time.monotonic() - t0 < CONTROL_BUDGET
        assert stopped.json()["state"] == "stopped"
        assert await run_states(db) == {run_id: "stopped"}
        assert control.process.alive  # idle, ready for the next start


async def test_the_api_answers_before_any_agent_process_is_spawned(tmp_path: Path) -> None:
    """The agent process's imports no longer compete with the API's start-up: the lifespan
    spawns none (``ffe serve`` warms one once it listens), and the first ``/health`` reports
    the agent honestly without one; a warm-up then spawns one, a start uses it."""
    env = {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"}
    async with served(settings_for(tmp_path, env)) as (client, container):
        health = await client.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["components"]["agent"] == {"status": "ok", "detail": "stopped"}
        control = agent_process(container)
        assert control.process.pid is None
        control.warm()
        warmed = control.process.pid
        assert warmed is not None
        started = await client.post("/api/bot/start")
        assert started.status_code == 200, started.text
        assert control.process.pid == warmed  # the warm process, not a second one
        assert (await client.post("/api/bot/stop")).status_code == 200


async def _cycles_above(client: httpx.AsyncClient, n: int) -> bool:
    return bool((await status(client))["cycles"] > n)


async def test_twenty_concurrent_starts_through_the_agent_process_make_one_run(
    tmp_path: Path, storage_env: dict[str, str]
) -> None:
    async with (
        served(settings_for(tmp_path, storage_env)) as (client, _),
        observer(storage_env) as db,
    ):
        responses = await asyncio.gather(*(client.post("/api/bot/start") for _ in range(20)))
        assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
        run_ids = {r.json()["run_id"] for r in responses if r.status_code == 200}
        assert len(run_ids) == 1, run_ids
        assert all(
            "already running" in r.json()["detail"] for r in responses if r.status_code == 409
        )
        (run_id,) = run_ids
        assert await run_states(db) == {run_id: "running"}
        await cycles_advance(client, 3)
    assert await _states_after(storage_env) == {run_id: "stopped"}  # server shut down cleanly


async def _states_after(storage_env: dict[str, str]) -> dict[str, str]:
    async with observer(storage_env) as db:
        return await run_states(db)


async def test_a_dead_agent_process_is_reported_and_a_start_brings_a_new_one(
    tmp_path: Path,
) -> None:
    env = {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"}
    async with served(settings_for(tmp_path, env)) as (client, container):
        assert (await client.post("/api/bot/start")).status_code == 200
        await cycles_advance(client)
        process = agent_process(container).process
        first_pid = process.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)

        async def reported() -> dict[str, Any] | None:
            now = await status(client)
            return now if "exited unexpectedly" in (now["last_error"] or "") else None

        dead = await wait_until(reported, "the status route to report the dead agent process")
        assert dead["state"] == "stopped"
        health = (await client.get("/health")).json()
        assert health["status"] == "down"
        assert health["components"]["agent"]["status"] == "down"
        assert "exited unexpectedly" in health["components"]["agent"]["detail"]

        again = await client.post("/api/bot/start")  # the crashed run is taken over
        assert again.status_code == 200, again.text
        assert process.pid != first_pid
        await cycles_advance(client)
        assert (await client.get("/health")).json()["components"]["agent"]["status"] == "ok"


def gauge(exposition: str, name: str) -> float | None:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


async def test_the_agent_process_gauges_appear_on_the_api_metrics(tmp_path: Path) -> None:
    env = {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"}
    async with served(settings_for(tmp_path, env)) as (client, _):

        async def scraped(name: str, want: Any) -> bool:
            value = gauge((await client.get("/metrics")).text, name)
            return bool(want(value))

        assert (await client.post("/api/bot/start")).status_code == 200
        await wait_until(lambda: scraped("ffe_agent_running", lambda v: v == 1), "running 1")
        await wait_until(lambda: scraped("ffe_portfolio_equity", lambda v: v and v > 0), "equity")
        await wait_until(
            lambda: scraped("ffe_agent_cycle_duration_seconds_count", lambda v: v and v > 0),
            "cycles counted",
        )
        body = (await client.get("/metrics")).text
        assert gauge(body, "ffe_api_requests_total") is not None or "ffe_api_" in body
        assert (await client.post("/api/bot/stop")).status_code == 200
        await wait_until(lambda: scraped("ffe_agent_running", lambda v: v == 0), "running 0")


async def test_an_approval_resolved_by_the_api_is_sent_by_the_agent_process(
    tmp_path: Path,
) -> None:
    async with served(settings_for(tmp_path, ASKING)) as (client, _):
        assert (await client.post("/api/bot/start")).status_code == 200

        async def pending() -> str | None:
            items = (await client.get("/api/v1/approvals?status=pending")).json()["items"]
            return str(items[0]["id"]) if items else None

        approval_id = await wait_until(pending, "the agent to ask for an approval", within=120)
        done = await client.post(f"/api/v1/approvals/{approval_id}/approve")
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "approved", done.json()

        async def filled() -> bool:
            return bool((await client.get("/api/v1/fills")).json()["items"])

        await wait_until(filled, "the approved order to fill")


async def test_the_api_shows_what_the_agent_process_did_at_once_not_a_second_later(
    tmp_path: Path,
) -> None:
    """The API's account and decision read models are kept up to a second between rebuilds;
    a flatten sent to the agent process (a write in another process) must not leave the
    dashboard showing the position, or missing the manual decision, for that second."""
    async with served(settings_for(tmp_path, ASKING)) as (client, _):
        assert (await client.post("/api/bot/start")).status_code == 200

        async def held() -> list[dict[str, Any]] | None:
            for a in (await client.get("/api/v1/approvals?status=pending")).json()["items"]:
                await client.post(f"/api/v1/approvals/{a['id']}/approve")
            items: list[dict[str, Any]] = (await client.get("/api/v1/positions")).json()["items"]
            return items or None

        await wait_until(held, "a position from an approved decision", within=120)
        assert (await client.post("/api/bot/stop")).status_code == 200
        positions = (await client.get("/api/v1/positions")).json()["items"]
        assert positions, "the stop's read shows the book after the agent's last cycle"
        symbol = positions[0]["instrument"]
        page = f"/api/v1/decisions?instrument={symbol}&limit=200"  # the newest first
        before = [d["id"] for d in (await client.get(page)).json()["items"]]

        flat = await client.post(f"/api/v1/positions/{symbol}/flatten")
        assert flat.status_code in (200, 201), flat.text
        after = (await client.get("/api/v1/positions")).json()["items"]
        assert symbol not in [p["instrument"] for p in after]
        now = (await client.get(page)).json()["items"]
        assert now[0]["aggregation"] == "manual" and now[0]["id"] not in before
        # the page moved by that one decision (on a slow machine the agent may have made more
        # than a page before its position: then the oldest one falls off the page)
        assert [d["id"] for d in now[1:]] == before[: len(now) - 1]
        assert len(now) == min(len(before) + 1, 200)


async def test_stop_reaches_the_agent_process_within_a_second_while_redis_hangs(
    tmp_path: Path,
) -> None:
    async with silent_redis() as port:
        settings = settings_for(
            tmp_path,
            {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"},
            FFE_MARKET_DATA__CACHE__BACKEND="redis",
            FFE_ADAPTERS__REDIS__URL=f"redis://127.0.0.1:{port}/0",
        )
        async with served(settings) as (client, _):
            assert (await client.post("/api/bot/start")).status_code == 200
            await cycles_advance(client)
            t0 = time.monotonic()
            stopped = await client.post("/api/bot/stop")
            assert time.monotonic() - t0 < CONTROL_BUDGET
            assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
            held = stopped.json()["cycles"]
            await asyncio.sleep(0.3)  # no cycle after a stop (nothing to wait for)
            assert (await status(client))["cycles"] == held


def test_the_agent_process_keeps_its_priority_when_the_api_lowers_its_own(
    tmp_path: Path,
) -> None:
    """``api.niceness`` lowers the API's event-loop thread; an agent process spawned (or
    respawned) afterwards still runs at the server's original priority. Run in a thread of
    its own so the test runner keeps its priority."""
    settings = settings_for(
        tmp_path,
        {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"},
        FFE_API__NICENESS="7",
    )
    seen: dict[str, int] = {}

    def api_thread() -> None:
        base = os.getpriority(os.PRIO_PROCESS, 0)
        process = AgentProcess(settings)
        process.lower_api_priority()
        process.spawn()  # after the API lowered its priority, like a respawn
        pid = process.pid
        assert pid is not None
        seen.update(
            base=base,
            api=os.getpriority(os.PRIO_PROCESS, 0),
            agent=os.getpriority(os.PRIO_PROCESS, pid),
        )
        asyncio.run(process.close())

    worker = threading.Thread(target=api_thread)
    worker.start()
    worker.join()
    assert seen["api"] == min(seen["base"] + 7, 19)
    assert seen["agent"] == seen["base"]


def test_the_agent_process_ends_when_the_server_is_gone(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"}
    )
    process = AgentProcess(settings)
    process.spawn()
    asyncio.run(process.ready())
    proc = process._proc
    assert proc is not None and proc.stdin is not None
    proc.stdin.close()  # what the kernel does when the server process dies
    assert proc.wait(timeout=60) == 0
    asyncio.run(process.close())


async def test_a_stored_trip_holds_the_agent_process_and_a_cli_reset_frees_it(
    tmp_path: Path, storage_env: dict[str, str]
) -> None:
    async with served(settings_for(tmp_path, storage_env)) as (client, container):
        # the account "was" worth far more: the trip is stored, as the agent process would
        risk = container.risk_state()
        risk.update_equity(Decimal("1000000"), container.clock().now())
        risk.update_equity(Decimal("1"), container.clock().now())
        await risk.save()
        assert (await status(client))["kill_switch"]["tripped"]
        refused = await client.post("/api/bot/start")  # refused by the agent process
        assert refused.status_code == 409 and "reset it first" in refused.json()["detail"]

        cwd = tmp_path / "cli"
        cwd.mkdir()
        done = await asyncio.to_thread(cli_reset, cwd, storage_env, "ops")
        assert done.returncode == 0, done.stderr

        seen = (await status(client))["kill_switch"]
        assert not seen["tripped"] and seen["reset_by"] == "ops"
        assert (await client.post("/api/bot/start")).status_code == 200
        await cycles_advance(client)
