"""schemathesis against a live ``ffe serve``: no 5xx, and every response fits its own schema.

The server is a real process (uvicorn, embedded defaults, SQLite in a temp directory); the number
of generated examples per operation is bounded so the run stays well under a minute.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.waiting import wait_until_sync

EXAMPLES_PER_OPERATION = int(os.environ.get("FFE_FUZZ_EXAMPLES", "12"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "SENTRY"))}
    env.pop("FINANCE_FEEDBACK_API_KEY", None)
    env.update(
        {
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{directory / 'fuzz.db'}",
            "FFE_API__RATE_LIMIT_PER_MINUTE": "1000000",
            "FFE_LOGGING__LEVEL": "WARNING",
            "FFE_CONFIG_DIR": str(directory),
        }
    )
    command = [sys.executable, "-m", "ffe_entrypoints.cli.main", "serve"]
    args = ["--host", "127.0.0.1", "--port", str(port), "--no-agent"]
    log = (directory / "server.log").open("w")
    server = subprocess.Popen([*command, *args], cwd=directory, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:

        def live() -> bool:
            assert server.poll() is None, (directory / "server.log").read_text()
            try:
                return httpx.get(f"{base}/live", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until_sync(live, "ffe serve to answer /live", interval=0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        server_log = (directory / "server.log").read_text()
        assert "Traceback" not in server_log, server_log[-4000:]


def fuzz(operation: schemathesis.APIOperation) -> str | None:
    """Bounded hypothesis run of one operation; the failure's description, or None."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    try:
        run()
    except Exception as exc:  # a check failure or a crash of the call, reported per operation
        return f"{operation.label}: {exc}"
    return None


@pytest.mark.slow
def test_no_server_errors_and_responses_match_schema(live_api: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    failures = [f for f in map(fuzz, operations) if f is not None]
    assert not failures, "\n\n".join(failures)
