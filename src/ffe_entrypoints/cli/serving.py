"""``ffe serve``: uvicorn with ffe's log format from the first line, and one line when ready."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

from ffe_core.config import Settings

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def ready_line(host: str, port: int, *, api_key_set: bool) -> str:
    """What a person needs once the API listens: the URL to open and whether a key is needed."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in shown:
        shown = f"[{shown}]"
    key = "set" if api_key_set else "none"
    return f"ffe is running: open http://{shown}:{port} (API key: {key})"


class ReadyServer(uvicorn.Server):
    """A uvicorn server that calls ``on_ready(port)`` once the app has started and it listens."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_ready(self._bound_port())

    def _bound_port(self) -> int:
        for server in self.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.config.port


def serve(
    application: Any,
    settings: Settings,
    host: str,
    port: int,
    *,
    before: Callable[[], Awaitable[None]] | None = None,
    after_ready: Callable[[], None] | None = None,
) -> None:
    """Run ``application`` until interrupted; logging is ffe's before uvicorn says a word.
    ``before`` runs on the server's event loop before uvicorn starts (what it raises reaches the
    caller, not uvicorn's start-up traceback); ``after_ready`` once the server listens."""
    from ffe_entrypoints.logging import configure_logging

    configure_logging(settings)
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # the app believes X-Forwarded-For from api.trusted_proxies only
    )
    api_key_set = settings.api.api_key is not None

    def announce(bound: int) -> None:
        print(ready_line(host, bound, api_key_set=api_key_set), flush=True)
        if after_ready is not None:
            after_ready()

    server = ReadyServer(config, announce)

    async def main() -> None:
        if before is not None:
            await before()
        await server.serve()

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:  # as uvicorn's run()
        runner.run(main())
