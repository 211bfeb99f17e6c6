"""The agent process: ``python -m ffe_entrypoints.services.agent_child SOCKET`` with the pickled
settings on stdin, spawned by :class:`ffe_entrypoints.services.agent_process.AgentProcess`.

It runs the agent's ``ControlService`` on its own event loop and answers the API process on
``SOCKET``. SIGTERM or SIGINT, or the end of stdin (the server is gone), stops the agent after its
current cycle, closes its run and the container, and ends the process.
"""

from __future__ import annotations

import asyncio
import pickle
import signal
import sys
import threading
from pathlib import Path

from ffe_core.config import Settings


def _on_stdin_end(loop: asyncio.AbstractEventLoop, done: asyncio.Event) -> None:
    """Read stdin to its end in a daemon thread; then set ``done`` (the server went away)."""

    def watch() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=watch, name="ffe-parent-watch", daemon=True).start()


async def run_agent_process(settings: Settings, socket: Path) -> None:
    from ffe_entrypoints.container import build_container
    from ffe_entrypoints.lifecycle import shutdown, startup
    from ffe_entrypoints.logging import configure_logging
    from ffe_entrypoints.services.agent_link import serve_link

    configure_logging(settings)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    _on_stdin_end(loop, done)
    container = build_container(settings)
    try:
        await startup(container)
        control = container.inline_control()
        server = await serve_link(control, socket)
        try:
            await done.wait()
        finally:
            server.close()
            await control.close()
    finally:
        await shutdown(container)


def main() -> None:
    settings = pickle.load(sys.stdin.buffer)
    assert isinstance(settings, Settings)
    asyncio.run(run_agent_process(settings, Path(sys.argv[1])))


if __name__ == "__main__":
    main()
