"""The notifiers the contract runs, each built by its registered factory from options, with a way
to read what it delivered and the upstream failures it must survive: ``log`` (records of the
``ffe.notify`` logger), ``telegram`` (python-telegram-bot against the fake Bot API of
``tests/adapters/telegram``, failing with Telegram's documented bodies) and the example plugin's
``journal`` (a JSON-lines file)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ffe_adapters.hookspecs import AdapterContext
from ffe_core.ports.capabilities import Closable
from ffe_core.ports.notify import Notifier
from tests.adapters.telegram.telegram_fake_api import FakeBotApi, FakeBotApiServer
from tests.contract.providers import registry
from tests.contract.scripted_server import documented

NOTIFIERS = ("log", "telegram", "journal")
"""Every built-in notifier and the example plugin's."""

TOKEN = "123456:CONTRACT-tokenQ7w"
CHAT = 1111


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Built:
    name: str
    notifier: Notifier
    delivered: Callable[[], list[str]]
    """The text of every notification that reached its destination, oldest first."""
    failures: dict[str, Callable[[], None]] = field(default_factory=dict)
    """Upstream failures by name, each making the next delivery fail (once, unless retried)."""


def build(name: str, options: dict[str, Any]) -> Notifier:
    factory = registry().factory("notifiers", name)
    notifier: Notifier = factory(AdapterContext(name=name, options=options))
    return notifier


def _journal(path: Path) -> Built:
    def lines() -> list[str]:
        if not path.is_file():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        return [f"{row['title']} {row['body']}" for row in rows]

    def unwritable() -> None:  # a directory where the file should be: every append fails
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            path.rename(path.with_suffix(".bak"))
        path.mkdir()

    def recover() -> None:
        if path.is_dir():
            path.rmdir()

    return Built(
        "journal",
        build("journal", {"path": str(path)}),
        lines,
        {"unwritable": unwritable, "recovered": recover},
    )


def _telegram(api: FakeBotApi) -> Built:
    def failing(body: str, status: int) -> Callable[[], None]:
        return lambda: api.fail_next_with(
            "sendMessage", documented("telegram", body), http_status=status
        )

    options = {
        "bot_token": TOKEN,
        "allowed_chat_ids": [CHAT],
        "base_url": api.url,
        "request_timeout_seconds": 5,
        "mode": "polling",  # no webhook to register: a notifier only sends
    }
    return Built(
        "telegram",
        build("telegram", options),
        lambda: [c.params["text"] for c in api.answered if c.method == "sendMessage"],
        {
            "rejected": failing("chat_not_found", 400),
            "error_in_200": failing("chat_not_found", 200),
            "rate_limited": failing("too_many_requests", 429),
            "rate_limited_in_200": failing("too_many_requests", 200),
        },
    )


@asynccontextmanager
async def notifier(name: str, directory: Path) -> AsyncIterator[Built]:
    if name == "log":
        records = _Records()
        logger = logging.getLogger("ffe.notify")
        logger.addHandler(records)
        level, logger.level = logger.level, logging.DEBUG
        try:
            yield Built(name, build(name, {}), lambda: list(records.messages))
        finally:
            logger.removeHandler(records)
            logger.setLevel(level)
        return
    if name == "journal":
        yield _journal(directory / "journal" / "notifications.jsonl")
        return
    with FakeBotApiServer(TOKEN) as api:
        built = _telegram(api)
        try:
            yield built
        finally:
            if isinstance(built.notifier, Closable):
                await built.notifier.close()
