"""``ffe serve`` says once, on stdout, where to open it, and logs in one format from the first line."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ffe_entrypoints.cli.serving import ready_line
from tests.waiting import wait_until_sync

FFE = [sys.executable, "-m", "ffe_entrypoints.cli.main"]
CONSOLE_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \[\w+\s*\] ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_until_ready(tmp_path: Path, env: dict[str, str]) -> tuple[str, str, int]:
    """Start ``ffe serve``, wait for its ready line, check it answers, stop it: (stdout, stderr, port)."""
    port = free_port()
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "FINANCE_FEEDBACK_"))
    }
    full_env.update(
        FFE_STORAGE__URL=f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
        FFE_LOGGING__JSON_FORMAT="false",
        **env,
    )
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [*FFE, "serve", "--port", str(port), "--no-agent"],
            cwd=tmp_path,
            env=full_env,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
        try:

            def ready() -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"ffe serve exited {proc.returncode}:\n{err.read_text()[-2000:]}")
                return "ffe is running" in out.read_text()

            wait_until_sync(ready, "the ready line of ffe serve")
            # the line comes once the server listens: no retry needed
            assert httpx.get(f"http://127.0.0.1:{port}/live", timeout=10).status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return out.read_text(), err.read_text(), port


@pytest.mark.slow
def test_serve_prints_one_ready_line_and_logs_in_one_format(tmp_path: Path) -> None:
    stdout, stderr, port = serve_until_ready(tmp_path, {})
    assert stdout.strip() == f"ffe is running: open http://127.0.0.1:{port} (API key: none)"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert any("Uvicorn running" in line for line in lines), stderr
    other = [line for line in lines if not CONSOLE_LOG_LINE.match(line)]
    assert other == [], "log lines in another format:\n" + "\n".join(other)


@pytest.mark.slow
def test_ready_line_says_a_key_is_set_without_showing_it(tmp_path: Path) -> None:
    key = "serve-ready-test-key-0123456789"
    stdout, stderr, port = serve_until_ready(tmp_path, {"FINANCE_FEEDBACK_API_KEY": key})
    assert stdout.strip() == f"ffe is running: open http://127.0.0.1:{port} (API key: set)"
    assert key not in stdout + stderr


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::", "http://127.0.0.1:8000"),
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("10.1.2.3", "http://10.1.2.3:8000"),
        ("::1", "http://[::1]:8000"),
    ],
)
def test_ready_line_names_an_address_a_browser_can_open(host: str, expected: str) -> None:
    assert ready_line(host, 8000, api_key_set=False) == (
        f"ffe is running: open {expected} (API key: none)"
    )
