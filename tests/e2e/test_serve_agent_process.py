"""The real ``ffe serve --agent``: the agent trades in a child process of the server, at a better
CPU priority than the API's, and both end cleanly on SIGTERM (the run closed, no process left)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ffe_entrypoints.services.agent_process import CHILD_MODULE
from tests.e2e.test_serve_ready import free_port
from tests.waiting import wait_until_sync

FFE = [sys.executable, "-m", "ffe_entrypoints.cli.main"]


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def serve_process(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """``ffe serve *args`` on a free port over ``tmp_path/ffe.db`` (one instrument, a fast
    agent interval, ``api.niceness`` 5), logging to ``tmp_path/serve.log``; the process and its
    base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FFE_", "FINANCE_FEEDBACK_"))}
    env.update(
        FFE_STORAGE__URL=f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
        FFE_AGENT__INSTRUMENTS='["BTC-USD"]',
        FFE_AGENT__INTERVAL_SECONDS="0.05",
        FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR="0.2",
        FFE_API__NICENESS="5",
    )
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*FFE, "serve", *args, "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=log,
    )
    return server, f"http://127.0.0.1:{port}"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_serve_agent_trades_in_a_child_process_and_both_end_on_sigterm(tmp_path: Path) -> None:
    server, base = serve_process(tmp_path, "--agent")
    try:

        def cycling() -> dict[str, object] | None:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                body = httpx.get(f"{base}/api/bot/status", timeout=5).json()
            except httpx.HTTPError:
                return None
            return body if body["state"] == "running" and body["cycles"] >= 2 else None

        wait_until_sync(cycling, "the agent to run under ffe serve", within=120)
        (agent,) = [c for c in children(server.pid) if CHILD_MODULE in cmdline(c)]
        assert os.getpriority(os.PRIO_PROCESS, agent) < os.getpriority(
            os.PRIO_PROCESS, server.pid
        ), "the agent should run ahead of the API"
    finally:
        server.terminate()
        server.wait(timeout=60)  # uvicorn shuts down, then re-raises SIGTERM: -15 is normal
    assert not Path(f"/proc/{agent}").exists() or "Z" in Path(f"/proc/{agent}/stat").read_text()
    with sqlite3.connect(tmp_path / "ffe.db") as conn:
        states = {row[0] for row in conn.execute("SELECT state FROM agent_runs")}
    assert states == {"stopped"}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_serve_lowers_its_priority_only_once_the_agent_is_started(tmp_path: Path) -> None:
    """``ffe serve --no-agent`` answers at the priority it started with and warms an idle agent
    process once it listens; ``api.niceness`` applies when the agent is started, not before
    (it cost the first answer up to seconds on a loaded machine)."""
    server, base = serve_process(tmp_path, "--no-agent")
    started_at = os.getpriority(os.PRIO_PROCESS, 0)
    try:

        def warm_child() -> list[int] | None:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                httpx.get(f"{base}/health", timeout=5)
            except httpx.HTTPError:
                return None
            found = [c for c in children(server.pid) if CHILD_MODULE in cmdline(c)]
            return found or None

        wait_until_sync(warm_child, "ffe serve to warm an idle agent process", within=120)
        assert os.getpriority(os.PRIO_PROCESS, server.pid) == started_at
        assert httpx.post(f"{base}/api/bot/start", timeout=120).status_code == 200
        assert os.getpriority(os.PRIO_PROCESS, server.pid) == min(started_at + 5, 19)
    finally:
        server.terminate()
        server.wait(timeout=60)
