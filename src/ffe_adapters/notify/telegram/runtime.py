"""The Telegram inbound channel: the webhook handler, or the poller in polling mode."""

from __future__ import annotations

from telegram import Bot

from ffe_adapters.notify.telegram.bot import build_bot, close_bot, register_webhook, verify_token
from ffe_adapters.notify.telegram.config import TelegramConfig
from ffe_adapters.notify.telegram.polling import TelegramPoller
from ffe_adapters.notify.telegram.webhook import TelegramWebhook
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import ControlPlane


class TelegramInbound:
    """Commands and approval buttons from Telegram, acting through the control plane.

    In webhook mode :attr:`webhook` answers the API's route and :meth:`start` registers
    ``webhook_url`` with Telegram (when set); in polling mode :meth:`start` starts polling.
    """

    name = "telegram"

    def __init__(self, bot: Bot, control: ControlPlane, config: TelegramConfig, clock: Clock):
        self._bot = bot
        self._config = config
        self._poller: TelegramPoller | None = None
        self.webhook: TelegramWebhook | None = None
        if config.mode == "polling":
            self._poller = TelegramPoller.create(bot, control, config, clock)
        else:
            self.webhook = TelegramWebhook.create(bot, control, config, clock)

    async def verify(self) -> None:
        """Refuse a token Telegram does not accept (``Verifiable``): polling or registering the
        webhook with it would fail at start."""
        await verify_token(self._bot)

    async def start(self) -> None:
        if self._poller is not None:
            await self._poller.start()
        elif self._config.webhook_url:
            await register_webhook(self._bot, self._config)

    async def close(self) -> None:
        if self._poller is not None:
            await self._poller.stop()
        await close_bot(self._bot)

    @classmethod
    def create(cls, config: TelegramConfig, control: ControlPlane, clock: Clock) -> TelegramInbound:
        return cls(build_bot(config), control, config, clock)
