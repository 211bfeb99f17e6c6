"""Registers the ``telegram`` notifier, approval channel and inbound channel.

Each factory raises ConfigError (naming the key) when ``adapters.telegram`` cannot work (no
token, no allowed chat, no webhook secret in webhook mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.notify.telegram.config import TelegramConfig, TelegramOptions
from ffe_core.domain.errors import ConfigError

if TYPE_CHECKING:  # python-telegram-bot is imported only when Telegram is configured
    from ffe_adapters.notify.telegram.approvals import TelegramApprovalChannel
    from ffe_adapters.notify.telegram.notifier import TelegramNotifier
    from ffe_adapters.notify.telegram.runtime import TelegramInbound


def _config(context: AdapterContext) -> TelegramConfig:
    return TelegramConfig.from_options(context.parse_options(TelegramOptions))


def build_notifier(context: AdapterContext) -> TelegramNotifier:
    config = _config(context)
    from ffe_adapters.notify.telegram.bot import build_bot
    from ffe_adapters.notify.telegram.notifier import TelegramNotifier

    return TelegramNotifier(build_bot(config), config.notify_chat_ids)


def build_approval_channel(context: AdapterContext) -> TelegramApprovalChannel:
    config = _config(context)
    from ffe_adapters.notify.telegram.approvals import TelegramApprovalChannel
    from ffe_adapters.notify.telegram.bot import build_bot

    return TelegramApprovalChannel(build_bot(config), config.approval_chat_id, context.clock)


def build_inbound(context: AdapterContext) -> TelegramInbound:
    config = _config(context)
    if context.control is None:
        raise ConfigError("the telegram inbound channel needs the control plane")
    from ffe_adapters.notify.telegram.runtime import TelegramInbound

    return TelegramInbound.create(config, context.control, context.clock)


@hookimpl
def ffe_notifiers() -> Mapping[str, Factory]:
    return {"telegram": build_notifier}


@hookimpl
def ffe_approval_channels() -> Mapping[str, Factory]:
    return {"telegram": build_approval_channel}


@hookimpl
def ffe_inbound_channels() -> Mapping[str, Factory]:
    return {"telegram": build_inbound}
