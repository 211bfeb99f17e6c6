"""A scripted HTTP server on 127.0.0.1: replies queued per path, every request recorded.

Adapters reach it through their ``base_url`` option, so the contract cases run the real SDK or
httpx client over a real socket. Bodies come from ``responses/<vendor>/`` (see each SOURCES.md).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RESPONSES = Path(__file__).parent / "responses"


def documented(vendor: str, name: str) -> Any:
    """A fresh copy of the vendor-documented body ``responses/<vendor>/<name>.json``."""
    return json.loads((RESPONSES / vendor / f"{name}.json").read_text())


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedServer:
    """Replies per (method, path) — or a path prefix ending in ``/`` — served in order, the last
    one repeating; a request nobody scripted gets a 404 and is listed in ``unexpected``. A reply
    body may be a function of the request (``Seen``) for a fake that answers what was asked."""

    def __init__(self) -> None:
        self._replies: dict[tuple[str, str], deque[_Reply]] = {}
        self.seen: list[Seen] = []
        self.unexpected: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reply(
        self,
        path: str,
        body: Any,
        *,
        status: int = 200,
        method: str = "GET",
        headers: dict[str, str] | None = None,
    ) -> ScriptedServer:
        with self._lock:
            self._replies.setdefault((method, path), deque()).append(
                _Reply(status, body, dict(headers or {}))
            )
        return self

    def requests_to(self, path: str, method: str = "GET") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(path)]

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, method: str, path: str) -> _Reply:
        with self._lock:
            queue = self._replies.get((method, path))
            if queue is None:
                prefix = next(
                    (
                        p
                        for m, p in self._replies
                        if m == method and p.endswith("/") and path.startswith(p)
                    ),
                    None,
                )
                queue = self._replies.get((method, prefix)) if prefix else None
            if not queue:
                self.unexpected.append(f"{method} {path}")
                return _Reply(404, {"error": f"nothing scripted for {method} {path}"})
            return queue.popleft() if len(queue) > 1 else queue[0]


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            server.seen.append(
                Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    json.loads(raw) if raw else None,
                )
            )
            reply = server._answer(self.command, parts.path)
            body = reply.body(server.seen[-1]) if callable(reply.body) else reply.body
            data = json.dumps(body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _dispatch

    return Handler
