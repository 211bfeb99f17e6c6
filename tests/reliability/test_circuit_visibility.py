"""A provider's circuit breaker opening and closing shows in /health and /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dependency_injector import providers
from litestar.testing import AsyncTestClient

from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.services.circuit import CircuitBreaker
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import build_container
from ffe_entrypoints.settings import load_settings


class SteppedClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t


class LlmLike:
    """Shaped like an LLM adapter: votes through a circuit breaker exposed as ``.circuit``."""

    def __init__(self, circuit: CircuitBreaker) -> None:
        self.name = "llm-like"
        self.circuit = circuit

    async def vote(self, context: object) -> ProviderVote:
        return ProviderVote(provider=self.name, action=Action.HOLD, confidence=0.5)


def gauge(metrics: str) -> str:
    """This provider's breaker gauge (the registry is the process's: an earlier test's provider
    may have a line of its own, listed first)."""
    prefix = 'ffe_circuit_breaker_state{name="llm-like"}'
    lines = [ln for ln in metrics.splitlines() if ln.startswith(prefix)]
    assert len(lines) == 1, metrics
    return lines[0].rsplit(" ", 1)[1]


async def test_breaker_open_and_close_show_in_health_and_metrics(tmp_path: Path) -> None:
    env = {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"}
    container = build_container(load_settings(tmp_path, environ=env))
    clock = SteppedClock()
    circuit = CircuitBreaker(
        "llm-like",
        clock,
        failure_threshold=2,
        reset_seconds=30,
        on_change=container.metrics().circuit_state,
    )
    container.decision_providers.override(providers.Object({"llm-like": LlmLike(circuit)}))
    async with AsyncTestClient(create_app(container, start_agent=False)) as client:
        container.metrics().circuit_state("llm-like", circuit.state.value)
        assert gauge((await client.get("/metrics")).text) == "0.0"

        circuit.record_failure("HTTP 503")
        circuit.record_failure("HTTP 503")
        health = (await client.get("/health")).json()
        (snap,) = health["circuit_breakers"]
        assert snap["state"] == "open" and snap["last_error"] == "HTTP 503"
        assert health["status"] == "degraded"
        assert gauge((await client.get("/metrics")).text) == "2.0"

        clock.t += timedelta(seconds=31)
        assert circuit.allow()  # half-open: one trial call
        assert gauge((await client.get("/metrics")).text) == "1.0"
        circuit.record_success()
        (snap,) = (await client.get("/health")).json()["circuit_breakers"]
        assert snap["state"] == "closed"
        assert gauge((await client.get("/metrics")).text) == "0.0"
