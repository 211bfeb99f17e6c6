"""Long polling (``telegram.mode: polling``) for users without a public URL.

Feeds each update from getUpdates to the same handler the webhook uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot
from telegram.error import TelegramError

from ffe_adapters.notify.telegram.bot import LOGGER_NAME, redact
from ffe_adapters.notify.telegram.config import TelegramConfig
from ffe_adapters.notify.telegram.handlers import TelegramUpdateHandler
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import ControlPlane

ALLOWED_UPDATES = ["message", "callback_query"]
_log = logging.getLogger(LOGGER_NAME)


class TelegramPoller:
    """A background task calling getUpdates; ``start()`` / ``stop()`` from the app's lifespan."""

    def __init__(
        self,
        handler: TelegramUpdateHandler,
        *,
        poll_timeout: int = 30,
        retry_delay: float = 5.0,
    ) -> None:
        self._handler = handler
        self._bot: Bot = handler.bot
        self._poll_timeout = poll_timeout
        self._retry_delay = retry_delay
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def create(
        cls, bot: Bot, control: ControlPlane, config: TelegramConfig, clock: Clock | None = None
    ) -> TelegramPoller:
        handler = TelegramUpdateHandler(bot, control, config, clock)
        return cls(handler, poll_timeout=config.poll_timeout_seconds)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Remove any webhook (getUpdates is refused while one is set) and start polling."""
        if self.running:
            return
        await self._bot.delete_webhook()
        self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def poll_once(self) -> int:
        """Fetch and handle one batch; returns how many updates were handled."""
        updates = await self._bot.get_updates(
            offset=self._offset, timeout=self._poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        for update in updates:
            self._offset = update.update_id + 1  # acknowledged even if handling fails
            try:
                await self._handler.process(update)
            except Exception as exc:
                _log.error(
                    "telegram update %s failed: %s: %s",
                    update.update_id,
                    type(exc).__name__,
                    redact(str(exc)),
                )
        return len(updates)

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except TelegramError as exc:
                _log.warning("getUpdates failed: %s; retrying", redact(str(exc)))
                await asyncio.sleep(self._retry_delay)
