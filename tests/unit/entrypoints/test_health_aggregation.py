"""The health report is never better than its worst component; the agent component tells an
operator's stop from a stop on an error."""

from __future__ import annotations

import pytest

from ffe_core.domain.agent import AgentState
from ffe_core.ports.clock import SystemClock
from ffe_core.ports.control import AgentStatus, KillSwitchState
from ffe_core.services.circuit import CircuitBreaker
from ffe_entrypoints.services.health import (
    AgentStoppedOnError,
    Degraded,
    HealthService,
    agent_health,
    breakers_of,
)


async def ok() -> None:
    return None


async def down() -> None:
    raise ConnectionError("refused")


async def degraded() -> None:
    raise Degraded("cache bypassed")


async def running() -> str:
    return "running"


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ({"storage": ok, "broker": ok}, "ok"),
        ({"storage": ok, "broker": down}, "down"),  # any component down: the report is down
        ({"storage": ok, "cache": degraded}, "degraded"),
        ({"storage": down, "cache": degraded}, "down"),
        ({}, "ok"),
    ],
)
async def test_the_report_is_as_bad_as_its_worst_component(
    checks: dict[str, object], expected: str
) -> None:
    report = await HealthService(checks, lambda: [], "paper").report()  # type: ignore[arg-type]
    assert report["status"] == expected
    worst = max(
        (c["status"] for c in report["components"].values()),
        key=("ok", "degraded", "down").index,
        default="ok",
    )
    assert report["status"] == worst


async def test_a_degraded_check_says_why() -> None:
    report = await HealthService({"cache": degraded}, lambda: [], "paper").report()
    assert report["components"]["cache"] == {"status": "degraded", "detail": "cache bypassed"}


async def test_an_open_breaker_degrades_but_never_hides_a_down_component() -> None:
    breaker = CircuitBreaker("llm", SystemClock(), failure_threshold=1, reset_seconds=600)
    breaker.record_failure("HTTP 503")
    assert (await HealthService({"a": ok}, lambda: [breaker], "paper").report())[
        "status"
    ] == "degraded"
    assert (await HealthService({"a": down}, lambda: [breaker], "paper").report())[
        "status"
    ] == "down"


class Guarded:
    """A decision provider with a circuit breaker (``WithCircuit``)."""

    def __init__(self, name: str) -> None:
        self.circuit = CircuitBreaker(name, SystemClock(), failure_threshold=1, reset_seconds=600)


async def test_breakers_are_found_once_per_providers_and_read_live() -> None:
    """The providers are looked through once (not on every /health request); a breaker that
    opens afterwards still shows, and providers built anew are looked through anew."""
    first: dict[str, object] = {"llm": Guarded("llm"), "trend": object()}
    current = [first]
    asked: list[int] = []

    def providers() -> dict[str, object]:
        asked.append(1)
        return current[0]

    breakers = breakers_of(providers)  # type: ignore[arg-type]
    health = HealthService({"a": ok}, breakers, "paper")
    assert (await health.report())["status"] == "ok"
    assert breakers() is breakers(), "found once for the same providers"
    first["llm"].circuit.record_failure("HTTP 503")  # type: ignore[attr-defined]
    assert (await health.report())["status"] == "degraded"
    current[0] = {"other": Guarded("other")}
    assert [b.name for b in breakers()] == ["other"]
    assert len(asked) == 5


async def test_a_cached_pass_keeps_its_detail() -> None:
    health = HealthService({"agent": running}, lambda: [], "paper", ok_max_age=60)
    first = await health.report()
    second = await health.report()
    assert first["components"]["agent"] == second["components"]["agent"]
    assert second["components"]["agent"] == {"status": "ok", "detail": "running"}


def status(state: AgentState, last_error: str | None = None, tripped: bool = False) -> AgentStatus:
    return AgentStatus(
        state=state,
        last_error=last_error,
        kill_switch=KillSwitchState(tripped=tripped, reason="drawdown 25% reached 20%"),
    )


def test_running_paused_and_stopped_agents_are_reported_by_state() -> None:
    assert agent_health(status(AgentState.RUNNING)) == "running"
    assert agent_health(status(AgentState.PAUSED)) == "paused"
    assert agent_health(status(AgentState.STOPPED)) == "stopped"


def test_an_operators_stop_after_a_failed_cycle_is_not_an_error() -> None:
    assert agent_health(status(AgentState.STOPPED, "BTC-USD: no bars for BTC-USD")) == "stopped"
    # still running after a failed cycle: the loop goes on
    assert agent_health(status(AgentState.RUNNING, "error: RuntimeError: x")) == "running"


def test_a_stop_on_an_error_is_down_with_the_error() -> None:
    with pytest.raises(AgentStoppedOnError, match="stopped on an error: OperationalError: full"):
        agent_health(status(AgentState.STOPPED, "error: OperationalError: full"))


def test_a_tripped_kill_switch_is_degraded_with_its_reason() -> None:
    with pytest.raises(Degraded, match="kill switch tripped: drawdown 25%"):
        agent_health(status(AgentState.STOPPED, tripped=True))
