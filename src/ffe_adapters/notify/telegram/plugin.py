"""Registers the ``telegram`` notifier and approval channel.

Each factory raises ConfigError (naming the key) when Telegram is disabled or has no token;
the container then keeps the ``log`` notifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.notify.telegram.config import TelegramConfig

if TYPE_CHECKING:  # python-telegram-bot is imported only when Telegram is configured
    from ffe_adapters.notify.telegram.approvals import TelegramApprovalChannel
    from ffe_adapters.notify.telegram.notifier import TelegramNotifier


def build_notifier(context: AdapterContext) -> TelegramNotifier:
    config = TelegramConfig.from_settings(context.settings.telegram, context.options)
    from ffe_adapters.notify.telegram.bot import build_bot
    from ffe_adapters.notify.telegram.notifier import TelegramNotifier

    return TelegramNotifier(build_bot(config), config.notify_chat_ids)


def build_approval_channel(context: AdapterContext) -> TelegramApprovalChannel:
    config = TelegramConfig.from_settings(context.settings.telegram, context.options)
    from ffe_adapters.notify.telegram.approvals import TelegramApprovalChannel
    from ffe_adapters.notify.telegram.bot import build_bot

    return TelegramApprovalChannel(build_bot(config), config.approval_chat_id, context.clock)


@hookimpl
def ffe_notifiers() -> Mapping[str, Factory]:
    return {"telegram": build_notifier}


@hookimpl
def ffe_approval_channels() -> Mapping[str, Factory]:
    return {"telegram": build_approval_channel}
