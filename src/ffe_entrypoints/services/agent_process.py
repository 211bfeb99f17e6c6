"""The agent's own process, as the API process sees it: spawned, watched, stopped.

Why a process: on the API's event loop every await of the agent's cycle queued behind request
handlers and their SQLite threads (the soak benchmark measured the agent at about half its idle
cadence under API load). In its own process, at a better CPU priority than the API, the agent
keeps its cadence; the API reaches it through :mod:`ffe_entrypoints.services.agent_link`.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio

from ffe_core.config import Settings
from ffe_entrypoints.services.agent_link import AgentLink, AgentUnreachable

CHILD_MODULE = "ffe_entrypoints.services.agent_child"
READY_TIMEOUT = 120.0  # seconds for a child to import, migrate and listen (a loaded machine)
STOP_TIMEOUT = 30.0  # seconds for a child to finish its cycle and close before it is killed


class AgentProcess:
    """One child process running the agent (``python -m ffe_entrypoints.services.agent_child``).

    Children are spawned from a thread that keeps the priority the server started with, so an
    agent restarted after the API lowered its own priority (:meth:`lower_api_priority`, Linux:
    per thread) still runs ahead of the API. The child gets the settings through its stdin and
    exits on its own when that pipe closes (the server died)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._dir = Path(tempfile.mkdtemp(prefix="ffe-agent-"))  # mode 0700: this user only
        self.link = AgentLink(self._dir / "agent.sock")
        self._proc: subprocess.Popen[bytes] | None = None
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="ffe-agent-spawner")
        self._spawner.submit(lambda: None).result()  # its thread exists before any renice
        self._lock = anyio.Lock()
        self._closing = False
        self._lowered = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def death(self) -> str | None:
        """Why the last child is gone when nobody asked it to go (``error: ...``), else None."""
        if self._proc is None or self._closing or self._proc.poll() is None:
            return None
        return f"error: the agent process exited unexpectedly (exit code {self._proc.returncode})"

    def lower_api_priority(self) -> None:
        """Lower the calling thread's CPU priority (the event loop's, and every thread it starts
        later) by ``api.niceness``, once however often it is called; the spawner thread keeps
        its own."""
        if self.settings.api.niceness and not self._lowered:
            os.nice(self.settings.api.niceness)
        self._lowered = True

    def spawn(self) -> None:
        """Start a child unless one is alive (returns at once; :meth:`ready` waits)."""
        if not self.alive:
            self._spawner.submit(self._spawn).result()

    def _spawn(self) -> None:
        self.link.path.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", CHILD_MODULE, str(self.link.path)], stdin=subprocess.PIPE
        )
        assert proc.stdin is not None
        proc.stdin.write(pickle.dumps(self.settings))
        proc.stdin.flush()  # kept open: its end tells the child that the server is gone
        self._proc = proc

    async def ready(self) -> None:
        """Spawn if needed and wait until the child answers (one spawn for concurrent callers)."""
        async with self._lock:
            self.spawn()
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                try:
                    await self.link.call("status")
                    return
                except AgentUnreachable:
                    if not self.alive:
                        raise AgentUnreachable(self.death() or "the agent process exited") from None
                    if time.monotonic() > deadline:
                        raise
                    await anyio.sleep(0.05)

    async def close(self) -> None:
        """Ask the child to stop (it finishes its cycle and closes its run), kill it if it
        does not within ``STOP_TIMEOUT``; remove the socket's directory."""
        self._closing = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await anyio.to_thread.run_sync(proc.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                await anyio.to_thread.run_sync(proc.wait)
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
        self._spawner.shutdown()
        shutil.rmtree(self._dir, ignore_errors=True)
