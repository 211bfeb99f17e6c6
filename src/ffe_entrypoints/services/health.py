"""Aggregates component checks and circuit breakers into one health report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ffe_core.config import Settings
from ffe_core.domain.agent import AgentState
from ffe_core.ports.brokers import Broker
from ffe_core.ports.capabilities import Pingable, WithCircuit
from ffe_core.ports.control import AgentStatus, ControlPlane
from ffe_core.ports.market_data import Cache, MarketDataSource
from ffe_core.ports.providers import DecisionProvider
from ffe_core.ports.storage import StorageBackend
from ffe_core.services.circuit import CircuitBreaker

Check = Callable[[], Awaitable[str | None]]
"""Returns on success (optionally a detail such as ``"running"``); raises on failure."""

STATUSES = ("ok", "degraded", "down")  # best to worst


class Degraded(Exception):
    """Raised by a check whose component still serves, but impaired (cache bypassed, kill
    switch tripped); any other exception means the component is down."""


class HealthService:
    """Each check reports ``ok``, ``degraded`` or ``down``; the report is as bad as its worst
    component (an open or half-open circuit breaker degrades it).

    A passing check is trusted for ``ok_max_age`` seconds (probes and dashboards poll often;
    each check does real I/O); a failing one is never cached, so trouble and recovery both show
    on the next call. Circuit breakers are always read live.
    """

    def __init__(
        self,
        checks: dict[str, Check],
        breakers: Callable[[], list[CircuitBreaker]],
        mode: str,
        timeout: float = 3.0,
        ok_max_age: float = 1.0,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = checks
        self._breakers = breakers
        self._mode = mode
        self._timeout = timeout
        self._ok_max_age = ok_max_age
        self._ok: dict[str, tuple[float, dict[str, Any]]] = {}
        self._running: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._now = now

    def _fresh(self, name: str) -> dict[str, Any] | None:
        at, cached = self._ok.get(name, (-1e18, None))
        return cached if cached is not None and self._now() - at < self._ok_max_age else None

    async def _checked(self, name: str) -> dict[str, Any]:
        """The check's fresh result, or one run of it shared by every caller waiting for it
        (a probe storm runs each check once, not once per request)."""
        cached = self._fresh(name)
        if cached is not None:
            return cached
        task = self._running.get(name)
        if task is None:
            task = asyncio.ensure_future(self._refresh(name))
            self._running[name] = task
            task.add_done_callback(lambda _: self._running.pop(name, None))
        return await asyncio.shield(task)

    async def _refresh(self, name: str) -> dict[str, Any]:
        started = self._now()
        result = await self._run(self._checks[name])
        if result["status"] == "ok":
            self._ok[name] = (started, result)
        else:
            self._ok.pop(name, None)
        return result

    async def _run(self, check: Check) -> dict[str, Any]:
        try:
            detail = await asyncio.wait_for(check(), self._timeout)
        except Degraded as exc:
            return {"status": "degraded", "detail": str(exc)[:300]}
        except Exception as exc:
            return {"status": "down", "detail": f"{type(exc).__name__}: {exc}"[:300]}
        return {"status": "ok", "detail": detail}

    def add_check(self, name: str, check: Check) -> None:
        """One more component, reported like the others (e.g. the API's rate-limit store)."""
        self._checks = {**self._checks, name: check}

    async def storage_ok(self) -> bool:
        """Readiness: storage takes writes (its check is a rolled-back write)."""
        return "storage" not in self._checks or (await self._checked("storage"))["status"] == "ok"

    async def report(self) -> dict[str, Any]:
        fresh = {name: self._fresh(name) for name in self._checks}
        stale = [name for name, result in fresh.items() if result is None]
        ran = (  # only stale checks run (concurrently); fresh results cost no task
            dict(zip(stale, await asyncio.gather(*map(self._checked, stale)), strict=True))
            if stale
            else {}
        )
        components = {name: ran[name] if r is None else r for name, r in fresh.items()}
        breakers = [b.snapshot() for b in self._breakers()]
        seen = [c["status"] for c in components.values()]
        seen += ["degraded" for b in breakers if b["state"] != "closed"]
        return {
            "status": max(seen, key=STATUSES.index, default="ok"),
            "mode": self._mode,
            "components": components,
            "circuit_breakers": breakers,
        }


class AgentStoppedOnError(Exception):
    """The agent's run ended on an error (the component is down)."""


def agent_health(status: AgentStatus) -> str:
    """The agent component: its state when trading as asked (running, paused or stopped by an
    operator); ``Degraded`` while the kill switch holds trading; down after it stopped on an
    error (the agent records a run-ending error as ``last_error`` starting ``error:``)."""
    error = status.last_error or ""
    if status.state is AgentState.STOPPED and error.startswith("error:"):
        raise AgentStoppedOnError(f"stopped on an {error}")
    if status.kill_switch.tripped:
        raise Degraded(f"kill switch tripped: {status.kill_switch.reason or 'drawdown limit'}")
    return status.state.value


def circuit_breakers(components: Iterable[object]) -> list[CircuitBreaker]:
    """The circuit breaker of every component that declares one (``WithCircuit``)."""
    return [c.circuit for c in components if isinstance(c, WithCircuit)]


def breakers_of(
    providers: Callable[[], Mapping[str, DecisionProvider]],
) -> Callable[[], list[CircuitBreaker]]:
    """:func:`circuit_breakers` of the decision providers, looked for once per providers
    mapping (a protocol ``isinstance`` costs tens of µs, and ``/health`` asks on every
    request); a new mapping (the container rebuilt them) is looked at anew."""
    last: tuple[Mapping[str, DecisionProvider] | None, list[CircuitBreaker]] = (None, [])

    def breakers() -> list[CircuitBreaker]:
        nonlocal last
        current = providers()
        if current is not last[0]:
            last = (current, circuit_breakers(current.values()))
        return last[1]

    return breakers


def build_health(
    settings: Settings,
    storage: StorageBackend,
    broker: Callable[[], Broker],
    market_data: Callable[[], MarketDataSource],
    decision_providers: Callable[[], Mapping[str, DecisionProvider]],
    cache: Callable[[], Cache | None],
    control: Callable[[], ControlPlane],
) -> HealthService:
    """Each check exercises what it reports: storage takes a (rolled-back) write, the broker
    serves the account, market data a quote, a pingable cache answers, the agent says how it
    runs. Components other than the cache are asked for when a check runs."""

    async def broker_ok() -> None:
        await broker().get_portfolio()

    async def market_data_ok() -> None:
        instrument = settings.instrument(settings.agent.instruments[0])
        assert instrument is not None
        await market_data().get_quote(instrument)

    async def cache_ok() -> None:
        assert isinstance(pingable, Pingable)
        try:
            await pingable.ping()
        except Exception as exc:  # the cache degrades to misses: slower, still trading
            backend = settings.market_data.cache.backend
            raise Degraded(
                f"{backend} unreachable, market data is read uncached ({type(exc).__name__}: {exc})"
            ) from exc

    async def agent_ok() -> str:
        return agent_health(await control().agent_status())

    checks: dict[str, Check] = {
        "storage": storage.write_check,
        "broker": broker_ok,
        "market_data": market_data_ok,
        "agent": agent_ok,
    }
    pingable = cache()
    if isinstance(pingable, Pingable):  # a cache on a server
        checks["cache"] = cache_ok
    return HealthService(
        checks=checks,
        breakers=breakers_of(decision_providers),
        mode=settings.trading.mode.value,
        timeout=settings.api.health_check_timeout_seconds,
    )
