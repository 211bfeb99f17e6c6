"""API key on every non-public route (checked from the app's route table), CORS, rate limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from ffe_entrypoints.api.auth import API_KEY_HEADER
from tests.api.conftest import API_KEY, api_settings, serving
from tests.api.test_endpoints import fake_dist

Client = AsyncTestClient[Litestar]
AUTH_ENV = {"FINANCE_FEEDBACK_API_KEY": API_KEY}
PUBLIC_PATHS = {
    "/health",
    "/ready",
    "/live",
    "/metrics",
    "/webhook/telegram",
    # the dashboard's files and its client routes
    "/",
    "/{file_path:path}",
    "/agent-control",
    "/analytics",
    "/optimization",
    "/decisions/{decision_id:str}",
    # Swagger UI's static files (the page itself, which embeds the spec, needs the key)
    "/schema/swagger-ui/{file_path:path}",
}
SKIPPED_METHODS = {"OPTIONS", "HEAD"}  # CORS preflight and HEAD carry no credentials


def concrete(path: str) -> str:
    """A request path for a route template: every parameter filled with a harmless value."""
    return re.sub(r"\{[^}:]+:path\}", "index.html", re.sub(r"\{[^}:]+:str\}", "x1", path))


def endpoints(app: Litestar) -> Iterator[tuple[str, str]]:
    """Every (method, path template) the app serves."""
    for route in app.routes:
        assert isinstance(route, HTTPRoute), route
        for method in sorted(route.methods - SKIPPED_METHODS):
            yield method, route.path


async def test_every_non_public_route_needs_the_api_key(tmp_path: Path) -> None:
    settings = api_settings(tmp_path, AUTH_ENV, api={"frontend_dist": str(fake_dist(tmp_path))})
    async with serving(settings) as (client, _):
        routes = list(endpoints(client.app))
        assert len(routes) > 30  # the table really was read (schema, dashboard and API routes)
        assert {p for _, p in routes} >= PUBLIC_PATHS
        for method, template in routes:
            path = concrete(template)
            anonymous = await client.request(method, path)
            wrong = await client.request(method, path, headers={API_KEY_HEADER: API_KEY + "x"})
            if template in PUBLIC_PATHS:
                assert anonymous.status_code != 401, (method, template)
                continue
            assert anonymous.status_code == 401, (method, template)
            assert wrong.status_code == 401, (method, template)
            assert API_KEY not in anonymous.text
            allowed = await client.request(method, path, headers={API_KEY_HEADER: API_KEY})
            assert allowed.status_code not in (401, 403), (method, template)
            assert allowed.status_code < 500, (method, template, allowed.text)


@pytest.mark.parametrize(
    "given",
    ["", API_KEY[:-1], API_KEY + " ", API_KEY.upper(), "ünïcode".encode(), "x" * 4096],
    ids=["empty", "prefix", "trailing-space", "case", "non-ascii", "huge"],
)
async def test_near_miss_keys_are_refused(tmp_path: Path, given: str | bytes) -> None:
    async with serving(api_settings(tmp_path, AUTH_ENV)) as (client, _):
        response = await client.get("/api/v1/status", headers={API_KEY_HEADER: given})
        assert response.status_code == 401
        assert response.json()["detail"] == "missing or invalid X-API-Key"


async def test_without_a_key_configured_the_api_is_open(client: Client) -> None:
    assert (await client.get("/api/v1/status")).status_code == 200
    assert (await client.post("/api/bot/stop")).status_code == 200


async def test_cors_allows_only_configured_origins(tmp_path: Path) -> None:
    allowed = "https://dash.example.org"
    env = {**AUTH_ENV, "ALLOWED_ORIGINS": f"{allowed},http://localhost:5173"}
    async with serving(api_settings(tmp_path, env)) as (client, _):
        preflight = {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key",
        }
        ok = await client.options("/api/v1/status", headers={"Origin": allowed, **preflight})
        assert ok.status_code in (200, 204)
        assert ok.headers["access-control-allow-origin"] == allowed
        assert "x-api-key" in ok.headers["access-control-allow-headers"].lower()

        evil = await client.options(
            "/api/v1/status", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in evil.headers
        assert evil.status_code >= 400

        simple = await client.get(
            "/api/v1/status", headers={"Origin": allowed, API_KEY_HEADER: API_KEY}
        )
        assert simple.headers["access-control-allow-origin"] == allowed
        foreign = await client.get(
            "/api/v1/status", headers={"Origin": "https://evil.example", API_KEY_HEADER: API_KEY}
        )
        assert "access-control-allow-origin" not in foreign.headers


async def test_no_cors_headers_when_no_origin_is_configured(client: Client) -> None:
    response = await client.get("/api/v1/status", headers={"Origin": "https://dash.example.org"})
    assert "access-control-allow-origin" not in response.headers


async def test_rate_limit_gives_429_with_ratelimit_headers(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path, api={"rate_limit_per_minute": 3})) as (client, _):
        for remaining in ("2", "1", "0"):
            ok = await client.get("/api/v1/instruments")
            assert ok.status_code == 200
            assert ok.headers["ratelimit-remaining"] == remaining
        limited = await client.get("/api/v1/instruments")
        assert limited.status_code == 429
        assert limited.json()["status_code"] == 429
        assert limited.headers["ratelimit-limit"] == "3"
        assert limited.headers["ratelimit-remaining"] == "0"
        assert int(limited.headers["ratelimit-reset"]) > 0
        assert limited.headers["ratelimit-policy"] == "3; w=60"

        # budgets are per endpoint, and probes, metrics and health are never limited
        assert (await client.get("/api/v1/strategies")).status_code == 200
        for path in ("/health", "/ready", "/live", "/metrics") * 3:
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "ratelimit-limit" not in response.headers
