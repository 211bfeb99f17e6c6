"""The gate before live holds on every path that starts the agent, not only at the CLI's
start-up: the API's start (in this process and through the agent process under ``ffe serve``),
the server's autostart, ``TradingAgent.run`` (what ``ffe agent run`` calls), a standby taking
over the lease, and an agent built without a gate. Each refuses with the one-line reason
(409 at the API) until a passing report is stored, and the report is read again at each start."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from ffe_core.backtest.live_gate import MIN_DECIDED_BARS, stack_fingerprint
from ffe_core.config import Settings
from ffe_core.ports.lease import StaleLeader
from ffe_core.ports.live_gate import NO_GATE, LiveGate, LiveGateRefused
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import build_container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.services import live_gate as live_gate_service
from ffe_entrypoints.services.agent_link import wire_name
from ffe_entrypoints.services.live_gate import store_report
from tests.api.conftest import api_settings, serving
from tests.api.test_agent_process import served, settings_for
from tests.waiting import wait_until

REFUSED = "live trading refused by the live gate"


def live(tmp_path: Path, **extra: Any) -> Settings:
    return api_settings(
        tmp_path,
        {
            "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
            "FFE_AGENT__INTERVAL_SECONDS": "0.05",
            "FFE_TRADING__MODE": "live",
            "FFE_TRADING__CONFIRM_LIVE": "true",
            "FFE_LIVE_GATE__REPORT_PATH": str(tmp_path / "gate" / "report.json"),
        },
        **extra,
    )


def passing_report(settings: Settings, age: timedelta = timedelta(0)) -> dict[str, Any]:
    """A stored report of the configured stack whose figures pass the default limits."""
    return {
        "created_at": (datetime.now(UTC) - age).isoformat(),
        "stack": stack_fingerprint(settings),
        "instruments": ["BTC-USD"],
        "contaminated": False,
        "pbo": 0.1,
        "deflated_sharpe": 0.99,
        "oos_return_pct": 3.0,
        "max_drawdown_pct": 1.0,
    }


async def test_the_api_start_is_409_until_a_passing_report_is_stored(tmp_path: Path) -> None:
    settings = live(tmp_path)
    async with serving(settings) as (client, _):
        refused = await client.post("/api/bot/start")
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert detail.startswith(REFUSED) and "no walk-forward report" in detail
        assert "\n" not in detail
        # too old: read again at this start, not remembered from the server's start-up
        store_report(settings, passing_report(settings, age=timedelta(days=60)))
        stale = await client.post("/api/bot/start")
        assert stale.status_code == 409 and "days old" in stale.json()["detail"]
        store_report(settings, passing_report(settings))
        started = await client.post("/api/bot/start")
        assert started.status_code == 200, started.text
        assert started.json()["state"] == "running"
        assert (await client.post("/api/bot/stop")).status_code == 200


async def test_the_agent_process_under_serve_holds_the_gate(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"},
        FFE_TRADING__MODE="live",
        FFE_TRADING__CONFIRM_LIVE="true",
        FFE_LIVE_GATE__REPORT_PATH=str(tmp_path / "gate" / "report.json"),
    )
    async with served(settings) as (client, _):
        refused = await client.post("/api/bot/start")
        # the refusal crosses the link as itself: 409 with its line, not a 500
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"].startswith(REFUSED)
        store_report(settings, passing_report(settings))
        started = await client.post("/api/bot/start")
        assert started.status_code == 200, started.text
        assert (await client.post("/api/bot/stop")).status_code == 200


async def test_the_servers_autostart_is_refused(tmp_path: Path) -> None:
    container = build_container(live(tmp_path))
    app = create_app(container, start_agent=True)
    refused: list[BaseException] = []
    try:
        async with app.lifespan():
            pass
    except* LiveGateRefused as group:  # Litestar's task group wraps it
        refused.extend(group.exceptions)
    assert len(refused) == 1 and "no walk-forward report" in str(refused[0])
    # closed on the way out: no resource of the container is left open
    assert not [r for r in container.traverse(types=[providers.Resource]) if r.initialized]


async def test_the_agents_own_run_is_refused(tmp_path: Path) -> None:
    """What ``ffe agent run`` calls once its container is built (past the CLI's early check)."""
    settings = live(tmp_path)
    async with serving(settings) as (_, container):
        agent = container.agent()
        with pytest.raises(LiveGateRefused, match="no walk-forward report"):
            await agent.run(cycles=1)
        store_report(settings, passing_report(settings))
        run = await agent.run(cycles=1)
        assert run.id
        agent.live_gate = None  # an agent assembled without a gate refuses live trading
        with pytest.raises(LiveGateRefused) as refused:
            await agent.acquire()
        assert str(refused.value) == NO_GATE


class CountingGate:
    """The container's gate, counting how often the agent asks it."""

    def __init__(self, inner: LiveGate) -> None:
        self.inner = inner
        self.asked = 0

    def refusal(self) -> str | None:
        self.asked += 1
        return self.inner.refusal()


async def test_a_standby_does_not_take_over_and_says_why_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    container = build_container(live(tmp_path))
    await startup(container)  # on this loop: the standby's task lives here
    try:
        control = container.inline_control()
        assert control.agent.live_gate is not None
        gate = control.agent.live_gate = CountingGate(control.agent.live_gate)
        with caplog.at_level(logging.WARNING):
            control.start_standby("test", 0.01)

            async def asked_thrice() -> bool:
                return gate.asked >= 3

            await wait_until(asked_thrice, "the standby to try three times")
        said = [r.message for r in caplog.records if "standby cannot take over" in r.message]
        assert len(said) == 1 and REFUSED in said[0]  # once, not at every retry
        assert not control.running
        await control.stop_agent("test")
    finally:
        await shutdown(container)


def test_refusals_cross_the_agent_link_as_a_known_error() -> None:
    assert wire_name(LiveGateRefused("x")) == "LiveGateRefused"
    assert wire_name(StaleLeader("x")) == "ConflictError"  # a subclass the API does not list


def test_the_api_side_minimum_equals_the_backtesters() -> None:
    assert live_gate_service.MIN_DECIDED_BARS == MIN_DECIDED_BARS
