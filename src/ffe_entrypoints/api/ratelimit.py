"""Per-endpoint rate limits: Litestar's middleware, with one budget per client and endpoint.

Public routes (health, probes, metrics, the Telegram webhook, the dashboard's files) and the
OpenAPI schema are not limited. The store is Redis when Redis is configured, memory otherwise.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware

from ffe_entrypoints.api.auth import PUBLIC_OPT

UNLIMITED = ["/health", "/ready", "/live", "/webhook", "/metrics", "/schema"]


class EndpointRateLimitMiddleware(RateLimitMiddleware):
    """Keys the request history by client *and* endpoint, so a busy dashboard poll of one route
    cannot starve the others."""

    def cache_key_from_request(self, request: Request[Any, Any, Any]) -> str:
        handler = request.scope["route_handler"]
        endpoint = ",".join(sorted(getattr(handler, "paths", ()))) or request.url.path
        return f"{super().cache_key_from_request(request)}::{request.method}::{endpoint}"


def rate_limit_config(per_minute: int) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        exclude=UNLIMITED,
        exclude_opt_key=PUBLIC_OPT,
        middleware_class=EndpointRateLimitMiddleware,
    )
