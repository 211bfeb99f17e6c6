"""Fixtures: a fake Bot API on 127.0.0.1, a FakeControlPlane on a ManualClock, the real adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr
from telegram import Bot
from telegram_fake_api import FakeBotApi, FakeBotApiServer
from telegram_fake_control import FakeControlPlane
from telegram_helpers import ALICE, SECRET, T0, TOKEN

from ffe_adapters.notify.telegram.bot import build_bot
from ffe_adapters.notify.telegram.config import TelegramConfig, TelegramOptions
from ffe_adapters.notify.telegram.webhook import TelegramWebhook
from ffe_core.ports.clock import ManualClock


@pytest.fixture
def telegram_api() -> Iterator[FakeBotApi]:
    with FakeBotApiServer(TOKEN) as api:
        yield api


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def control(clock: ManualClock) -> FakeControlPlane:
    return FakeControlPlane(clock)


@pytest.fixture
def telegram_settings(telegram_api: FakeBotApi) -> TelegramOptions:
    """``adapters.telegram`` pointed at the fake Bot API."""
    return TelegramOptions(
        bot_token=SecretStr(TOKEN),
        webhook_secret=SecretStr(SECRET),
        webhook_url="https://ffe.example/webhook/telegram",
        allowed_chat_ids=(ALICE,),
        base_url=telegram_api.url,
        request_timeout_seconds=5,
    )


@pytest.fixture
def config(telegram_settings: TelegramOptions) -> TelegramConfig:
    return TelegramConfig.from_options(telegram_settings)


@pytest.fixture
async def bot(config: TelegramConfig) -> AsyncIterator[Bot]:
    bot = build_bot(config)
    yield bot
    await bot.shutdown()


@pytest.fixture
def webhook(
    bot: Bot, control: FakeControlPlane, config: TelegramConfig, clock: ManualClock
) -> TelegramWebhook:
    return TelegramWebhook.create(bot, control, config, clock)
