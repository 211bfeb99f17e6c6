"""Telegram: alerts, trade approvals by inline buttons, and bot commands (python-telegram-bot).

Wiring: ``plugin`` registers the notifier, the approval channel and the inbound channel
(:class:`TelegramInbound`); the API route hands
``POST /webhook/telegram`` to :class:`TelegramWebhook`, or :class:`TelegramPoller` runs in
polling mode. Both feed :class:`TelegramUpdateHandler`, which talks to the ControlPlane port.
"""

import importlib
from typing import Any

_WHERE = {
    "AUDIT_LOGGER": "handlers",
    "SECRET_HEADER": "webhook",
    "Outcome": "handlers",
    "TelegramApprovalChannel": "approvals",
    "TelegramConfig": "config",
    "TelegramInbound": "runtime",
    "TelegramNotifier": "notifier",
    "TelegramOptions": "config",
    "TelegramPoller": "polling",
    "TelegramUpdateHandler": "handlers",
    "TelegramWebhook": "webhook",
    "build_bot": "bot",
    "register_webhook": "bot",
}
"""Where each exported name lives: loaded on first access, so that registering the plugin does
not import python-telegram-bot (a process without Telegram never does)."""

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
