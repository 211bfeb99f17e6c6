"""Telegram: alerts, trade approvals by inline buttons, and bot commands (python-telegram-bot).

Wiring: ``plugin`` registers the notifier, the approval channel and the inbound channel
(:class:`TelegramInbound`); the API route hands
``POST /webhook/telegram`` to :class:`TelegramWebhook`, or :class:`TelegramPoller` runs in
polling mode. Both feed :class:`TelegramUpdateHandler`, which talks to the ControlPlane port.
"""

from ffe_adapters.notify.telegram.approvals import TelegramApprovalChannel
from ffe_adapters.notify.telegram.bot import build_bot, register_webhook
from ffe_adapters.notify.telegram.config import TelegramConfig, TelegramOptions
from ffe_adapters.notify.telegram.handlers import AUDIT_LOGGER, Outcome, TelegramUpdateHandler
from ffe_adapters.notify.telegram.notifier import TelegramNotifier
from ffe_adapters.notify.telegram.polling import TelegramPoller
from ffe_adapters.notify.telegram.runtime import TelegramInbound
from ffe_adapters.notify.telegram.webhook import SECRET_HEADER, TelegramWebhook

__all__ = [
    "AUDIT_LOGGER",
    "SECRET_HEADER",
    "Outcome",
    "TelegramApprovalChannel",
    "TelegramConfig",
    "TelegramInbound",
    "TelegramNotifier",
    "TelegramOptions",
    "TelegramPoller",
    "TelegramUpdateHandler",
    "TelegramWebhook",
    "build_bot",
    "register_webhook",
]
