"""Aggregates component checks and circuit breakers into one health report."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ffe_core.services.circuit import CircuitBreaker

Check = Callable[[], Awaitable[None]]


class HealthService:
    """Each check raises on failure; a failing storage check makes the whole report ``down``."""

    def __init__(
        self,
        checks: dict[str, Check],
        breakers: Callable[[], list[CircuitBreaker]],
        mode: str,
        timeout: float = 3.0,
    ) -> None:
        self._checks = checks
        self._breakers = breakers
        self._mode = mode
        self._timeout = timeout

    async def _run(self, check: Check) -> dict[str, Any]:
        try:
            await asyncio.wait_for(check(), self._timeout)
        except Exception as exc:
            return {"status": "down", "detail": f"{type(exc).__name__}: {exc}"[:300]}
        return {"status": "ok", "detail": None}

    async def storage_ok(self) -> bool:
        check = self._checks.get("storage")
        return check is None or (await self._run(check))["status"] == "ok"

    async def report(self) -> dict[str, Any]:
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(self._checks[n]) for n in names))
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
