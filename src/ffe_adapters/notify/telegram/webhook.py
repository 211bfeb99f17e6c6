"""The webhook endpoint's logic, framework-free: the API route passes headers and raw body here.

The secret header is checked (in constant time) before the body is even parsed.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr
from telegram import Bot, Update

from ffe_adapters.notify.telegram.bot import LOGGER_NAME, redact
from ffe_adapters.notify.telegram.config import TelegramConfig
from ffe_adapters.notify.telegram.handlers import TelegramUpdateHandler
from ffe_core.domain.errors import ConfigError
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import ControlPlane

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000
_log = logging.getLogger(LOGGER_NAME)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _mistyped_field(update: Update) -> str | None:
    """The first field the handler reads whose type is not what the Bot API promises.

    python-telegram-bot's ``de_json`` does not check types, so ``"text": 5`` would otherwise
    surface as an AttributeError deep in a handler (a 500 that Telegram retries forever).
    """
    checks: list[tuple[str, object, tuple[type, ...]]] = []

    def user(prefix: str, u: object) -> None:
        if u is not None:
            checks.append((f"{prefix}.id", getattr(u, "id", None), (int,)))
            checks.append((f"{prefix}.username", getattr(u, "username", None), (str, type(None))))

    def message(prefix: str, m: object) -> None:
        if m is None:
            return
        chat = getattr(m, "chat", None)
        checks.append((f"{prefix}.chat.id", getattr(chat, "id", None), (int,)))
        checks.append((f"{prefix}.message_id", getattr(m, "message_id", None), (int,)))
        checks.append((f"{prefix}.text", getattr(m, "text", None), (str, type(None))))
        user(f"{prefix}.from", getattr(m, "from_user", None))

    query = update.callback_query
    if query is not None:
        checks.append(("callback_query.id", query.id, (str,)))
        checks.append(("callback_query.data", query.data, (str, type(None))))
        user("callback_query.from", query.from_user)
        if query.from_user is None:
            checks.append(("callback_query.from", None, (int,)))
        message("callback_query.message", query.message)
    message("message", update.message)
    for name, value, types in checks:
        if not isinstance(value, types) or (int in types and isinstance(value, bool)):
            return name
    return None


class TelegramWebhook:
    """``POST /webhook/telegram``: answers ``(status, json_body)``.

    401 without the secret header, 403 with a wrong one, 413/400 for oversized or malformed
    bodies, otherwise 200 (Telegram retries anything else, so refused updates are still 200).
    """

    def __init__(self, handler: TelegramUpdateHandler, secret: SecretStr | str) -> None:
        value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        if not value:
            raise ConfigError("adapters.telegram.webhook_secret is required for the webhook")
        self._secret = value.encode()
        self._handler = handler

    @classmethod
    def create(
        cls, bot: Bot, control: ControlPlane, config: TelegramConfig, clock: Clock | None = None
    ) -> TelegramWebhook:
        """The webhook for ``config`` (its ``webhook_secret`` must be set)."""
        if config.webhook_secret is None:
            raise ConfigError("adapters.telegram.webhook_secret is required for the webhook")
        return cls(TelegramUpdateHandler(bot, control, config, clock), config.webhook_secret)

    def _authenticate(self, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]] | None:
        given = _header(headers, SECRET_HEADER)
        if given is None:
            return 401, {"ok": False, "error": f"missing {SECRET_HEADER} header"}
        if not hmac.compare_digest(given.encode(), self._secret):
            return 403, {"ok": False, "error": f"wrong {SECRET_HEADER}"}
        return None

    def _parse(self, body: bytes) -> Update | tuple[int, dict[str, Any]]:
        if len(body) > MAX_BODY_BYTES:
            return 413, {"ok": False, "error": "update too large"}
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            return 400, {"ok": False, "error": f"malformed JSON: {exc.__class__.__name__}"}
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return 400, {"ok": False, "error": "not a Telegram Update (no integer update_id)"}
        try:
            update = Update.de_json(data, self._handler.bot)
        except Exception as exc:  # python-telegram-bot raises KeyError/TypeError/ValueError
            return 400, {"ok": False, "error": f"malformed update: {type(exc).__name__}"}
        if update is None:
            return 400, {"ok": False, "error": "malformed update"}
        wrong = _mistyped_field(update)
        if wrong is not None:
            return 400, {"ok": False, "error": f"malformed update: {wrong} has the wrong type"}
        return update

    async def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        refused = self._authenticate(headers)
        if refused is not None:
            _log.warning("telegram webhook refused: %s", refused[1]["error"])
            return refused
        parsed = self._parse(body)
        if isinstance(parsed, tuple):
            _log.warning("telegram webhook rejected an update: %s", redact(parsed[1]["error"]))
            return parsed
        outcome = await self._handler.process(parsed)
        return 200, {"ok": True, "update_id": parsed.update_id, "outcome": outcome.value}
