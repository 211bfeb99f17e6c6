"""Aggregates component checks and circuit breakers into one health report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ffe_core.services.circuit import CircuitBreaker

Check = Callable[[], Awaitable[None]]


class HealthService:
    """Each check raises on failure; a failing storage check makes the whole report ``down``.

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
        self._ok_at: dict[str, float] = {}
        self._now = now

    async def _checked(self, name: str) -> dict[str, Any]:
        now = self._now()
        if now - self._ok_at.get(name, -1e18) < self._ok_max_age:
            return {"status": "ok", "detail": None}
        result = await self._run(self._checks[name])
        if result["status"] == "ok":
            self._ok_at[name] = now
        else:
            self._ok_at.pop(name, None)
        return result

    async def _run(self, check: Check) -> dict[str, Any]:
        try:
            await asyncio.wait_for(check(), self._timeout)
        except Exception as exc:
            return {"status": "down", "detail": f"{type(exc).__name__}: {exc}"[:300]}
        return {"status": "ok", "detail": None}

    async def storage_ok(self) -> bool:
        return "storage" not in self._checks or (await self._checked("storage"))["status"] == "ok"

    async def report(self) -> dict[str, Any]:
        names = list(self._checks)
        results = await asyncio.gather(*(self._checked(n) for n in names))
        components = dict(zip(names, results, strict=True))
        breakers = [b.snapshot() for b in self._breakers()]
        if components.get("storage", {}).get("status") == "down":
            status = "down"
        elif any(c["status"] != "ok" for c in components.values()) or any(
            b["state"] != "closed" for b in breakers
        ):
            status = "degraded"
        else:
            status = "ok"
        return {
            "status": status,
            "mode": self._mode,
            "components": components,
            "circuit_breakers": breakers,
        }
