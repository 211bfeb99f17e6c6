"""X-Forwarded-For is believed only from ``api.trusted_proxies``: otherwise (loopback included)
the socket's address is the one rate limits and the audit trail use."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ffe_core.config import Settings
from tests.api.conftest import api_settings, client_from, serving
from tests.api.test_control_without_redis import free_port, recording
from tests.api.test_endpoints import _pending_approval

SPOOFED = {"X-Forwarded-For": "6.6.6.6"}


async def audit_names(settings: Settings, peer: str, headers: dict[str, str]) -> tuple[str, str]:
    """Who the agent start log and a rejected approval name, for a caller at ``peer``."""
    async with (
        serving(settings) as (app_client, container),
        client_from(app_client.app, peer) as client,
    ):
        with recording("ffe_core.services.control") as log:
            assert (await client.post("/api/bot/start", headers=headers)).status_code == 200
            assert (await client.post("/api/bot/stop", headers=headers)).status_code == 200
        started = next(r.getMessage() for r in log.records if "agent started by" in r.getMessage())
        approval_id = await _pending_approval(client, container)  # type: ignore[arg-type]
        rejected = await client.post(f"/api/v1/approvals/{approval_id}/reject", headers=headers)
        assert rejected.status_code == 200
        return started, rejected.json()["decided_by"]


async def limited_codes(settings: Settings, peer: str, forwarded: list[str]) -> list[int]:
    async with serving(settings) as (app_client, _), client_from(app_client.app, peer) as client:
        return [
            (await client.get("/api/v1/instruments", headers={"X-Forwarded-For": f})).status_code
            for f in forwarded
        ]


async def test_a_spoofed_header_from_loopback_is_ignored_by_default(tmp_path: Path) -> None:
    started, decided_by = await audit_names(api_settings(tmp_path), "127.0.0.1", SPOOFED)
    assert "agent started by api:127.0.0.1 " in started
    assert decided_by == "api:127.0.0.1"


async def test_a_spoofed_header_does_not_escape_the_rate_limit(tmp_path: Path) -> None:
    settings = api_settings(tmp_path, api={"rate_limit_per_minute": 3})
    forwarded = ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]
    assert await limited_codes(settings, "127.0.0.1", forwarded) == [200, 200, 200, 429]


async def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    settings = api_settings(tmp_path, api={"trusted_proxies": ["127.0.0.1"]})
    started, decided_by = await audit_names(settings, "127.0.0.1", SPOOFED)
    assert "agent started by api:6.6.6.6 " in started
    assert decided_by == "api:6.6.6.6"


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(tmp_path: Path) -> None:
    settings = api_settings(
        tmp_path, api={"rate_limit_per_minute": 2, "trusted_proxies": ["127.0.0.0/8"]}
    )
    forwarded = ["6.6.6.6", "6.6.6.6", "6.6.6.6", "7.7.7.7"]
    assert await limited_codes(settings, "127.0.0.1", forwarded) == [200, 200, 429, 200]


async def test_an_untrusted_peer_cannot_forward(tmp_path: Path) -> None:
    settings = api_settings(tmp_path, api={"trusted_proxies": ["127.0.0.1"]})
    started, decided_by = await audit_names(settings, "10.0.0.9", SPOOFED)
    assert "agent started by api:10.0.0.9 " in started
    assert decided_by == "api:10.0.0.9"


@pytest.mark.e2e
def test_ffe_serve_ignores_a_spoofed_header_from_loopback(tmp_path: Path) -> None:
    """The real server (uvicorn): its own proxy-header handling is off as well."""
    port = free_port()
    env: dict[str, Any] = {
        k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "SENTRY"))
    }
    env.pop("FINANCE_FEEDBACK_API_KEY", None)
    env.pop("FORWARDED_ALLOW_IPS", None)
    env.update(
        {
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
            "FFE_LOGGING__LEVEL": "INFO",
            "FFE_LOGGING__JSON_FORMAT": "true",
            "FFE_CONFIG_DIR": str(tmp_path),
        }
    )
    command = [sys.executable, "-m", "ffe_entrypoints.cli.main", "serve", "--no-agent"]
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "ffe serve did not come up within 60 s"
                try:
                    if httpx.get(f"{base}/live", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert httpx.post(f"{base}/api/bot/start", headers=SPOOFED, timeout=10).is_success
            assert httpx.post(f"{base}/api/bot/stop", headers=SPOOFED, timeout=30).is_success
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
    text = log_path.read_text()
    assert "agent started by api:127.0.0.1 " in text, text[-3000:]
    assert "6.6.6.6" not in text
