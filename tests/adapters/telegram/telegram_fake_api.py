"""A local fake of the Telegram Bot API on 127.0.0.1, recording calls, answering documented shapes.

Responses follow https://core.telegram.org/bots/api: ``{"ok": true, "result": ...}`` on success,
``{"ok": false, "error_code": ..., "description": ...}`` on failure.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = {"id": 999000111, "is_bot": True, "first_name": "ffe", "username": "ffe_test_bot"}
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Call:
    method: str
    params: dict[str, str]

    def json(self, name: str) -> Any:
        return json.loads(self.params[name])


@dataclass
class FakeBotApi:
    """State shared by the handler threads; tests read ``calls`` and queue ``updates``."""

    token: str
    calls: list[Call] = field(default_factory=list)
    answered: list[Call] = field(default_factory=list)
    """The calls answered ``ok: true``."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    url: str = ""
    _next_message_id: int = 100
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, method: str, error_code: int, description: str) -> None:
        self.failures[method] = (
            error_code,
            {"ok": False, "error_code": error_code, "description": description},
        )

    def fail_next_with(self, method: str, body: dict[str, Any], *, http_status: int) -> None:
        """Answer the next ``method`` call with ``body`` (a documented failure) and that status:
        Telegram's own, or 200 as a proxy or a misbehaving Bot API server sends."""
        self.failures[method] = (http_status, body)

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def answer(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(method, params))
            if method in self.failures:
                return self.failures.pop(method)
            result = self._result(method, params)
        if result is None:
            return 404, {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        with self._lock:
            self.answered.append(Call(method, params))
        return 200, {"ok": True, "result": result}

    def _result(self, method: str, params: dict[str, str]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery"):
            return True
        if method == "getUpdates":
            offset = int(params.get("offset", "0"))
            return [u for u in self.updates if u["update_id"] >= offset]
        if method in ("sendMessage", "editMessageText"):
            return self._message(method, params)
        return None

    def _message(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if method == "sendMessage":
            self._next_message_id += 1
            message_id = self._next_message_id
        else:
            message_id = int(params["message_id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "date": int(time.time()),
            "text": html.unescape(_TAG.sub("", params["text"])),
        }
        if method == "editMessageText":
            message["edit_date"] = int(time.time())
        if "reply_markup" in params:
            message["reply_markup"] = json.loads(params["reply_markup"])
        return message


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            api.paths.append(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            prefix = f"/bot{api.token}/"
            if not self.path.startswith(prefix):
                self._send(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params = {
                    k: v if isinstance(v, str) else json.dumps(v)
                    for k, v in json.loads(raw or "{}").items()
                }
            else:
                params = {k: v[0] for k, v in parse_qs(raw).items()}
            self._send(*api.answer(self.path[len(prefix) :], params))

        do_GET = do_POST

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class FakeBotApiServer:
    """Runs a FakeBotApi on an ephemeral 127.0.0.1 port in a daemon thread."""

    def __init__(self, token: str) -> None:
        self.api = FakeBotApi(token)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.api))
        self._server.daemon_threads = True
        self.api.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        return self.api

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
