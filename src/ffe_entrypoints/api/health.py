"""Health, readiness and liveness probes (public)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from ffe_core import __version__
from ffe_entrypoints.api.auth import PUBLIC_OPT
from ffe_entrypoints.services.health import HealthService


class HealthController(Controller):
    opt = {PUBLIC_OPT: True}
    include_in_schema = True
    tags = ["health"]

    @get("/health", summary="Component status and circuit breakers")
    async def health(self, health_service: NamedDependency[HealthService]) -> dict[str, Any]:
        report = await health_service.report()
        report["version"] = __version__
        return report

    @get("/ready", summary="Readiness probe")
    async def ready(
        self, health_service: NamedDependency[HealthService]
    ) -> Response[dict[str, str]]:
        ok = await health_service.storage_ok()
        return Response({"status": "ready" if ok else "not ready"}, status_code=200 if ok else 503)

    @get("/live", summary="Liveness probe")
    async def live(self) -> dict[str, str]:
        return {"status": "alive"}
