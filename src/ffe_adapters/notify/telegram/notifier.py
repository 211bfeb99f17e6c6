"""TelegramNotifier: the Notifier port, sending each notification to the configured chats."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot
from telegram.error import TelegramError

from ffe_adapters.notify.telegram.bot import LOGGER_NAME, close_bot, redact, verify_token
from ffe_adapters.notify.telegram.messages import PARSE_MODE, format_notification
from ffe_core.ports.notify import EventKind, Notification

_log = logging.getLogger(LOGGER_NAME)

_SILENT: frozenset[EventKind] = frozenset({EventKind.DAILY_SUMMARY, EventKind.AGENT})
"""Kinds sent without a notification sound."""


class TelegramNotifier:
    """Sends alerts to every chat in ``chat_ids``; a chat that fails does not stop the others.

    Delivery failures are logged (token redacted), never raised: a notification must not break
    the trading loop.
    """

    name = "telegram"

    def __init__(self, bot: Bot, chat_ids: Sequence[int]) -> None:
        self.bot = bot
        self._chat_ids = tuple(chat_ids)

    async def notify(self, event: Notification) -> None:
        text = format_notification(event)
        for chat_id in self._chat_ids:
            try:
                await self.bot.send_message(
                    chat_id=chat_id,
                    text=text,
                    parse_mode=PARSE_MODE,
                    disable_notification=event.kind in _SILENT,
                )
            except TelegramError as exc:
                _log.warning(
                    "telegram notification %s to chat %s failed: %s: %s",
                    event.kind.value,
                    chat_id,
                    type(exc).__name__,
                    redact(str(exc)),
                )

    async def verify(self) -> None:
        """Refuse a token Telegram does not accept (``Verifiable``)."""
        await verify_token(self.bot)

    async def close(self) -> None:
        """Close the bot's HTTP connections (the container calls this on shutdown)."""
        await close_bot(self.bot)

    aclose = close
