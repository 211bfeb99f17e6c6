"""/reset_kill_switch: allow-listed chats reset the kill switch through the control plane;
everyone else is refused and audited, and the switch stays tripped."""

from __future__ import annotations

import logging

import pytest
from telegram_fake_api import FakeBotApi
from telegram_fake_control import FakeControlPlane
from telegram_helpers import ALICE, command_update, load_update, post

from ffe_adapters.notify.telegram.handlers import AUDIT_LOGGER
from ffe_adapters.notify.telegram.webhook import TelegramWebhook

REASON = "drawdown 21.00% from peak 120,000.00 to 94,800.00 reached max_drawdown 20.00%"


async def test_allow_listed_chat_resets_the_kill_switch_and_is_audited(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    control.kill_switch_reason = REASON
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)

    status, body = await post(webhook, command_update("/reset_kill_switch"))

    assert (status, body["outcome"]) == (200, "command")
    assert control.actions == [("reset_kill_switch", "telegram:@alice")]
    assert not (await control.agent_status()).kill_switch.tripped
    [sent] = telegram_api.called("sendMessage")
    assert sent.params["chat_id"] == str(ALICE)
    text = sent.params["text"]
    assert text.startswith("✅ Kill switch reset by telegram:@alice.")
    assert "It had tripped at 2026-01-01 12:00 UTC: drawdown 21.00%" in text
    assert "/start_agent" in text
    [record] = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert record.action == "kill_switch_reset"  # type: ignore[attr-defined]
    assert record.by == "telegram:@alice"  # type: ignore[attr-defined]
    assert record.tripped_reason == REASON  # type: ignore[attr-defined]
    assert record.tripped_at == "2026-01-01T12:00:00+00:00"  # type: ignore[attr-defined]


async def test_reset_when_not_tripped_changes_nothing(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    await post(webhook, command_update("/reset_kill_switch"))
    [sent] = telegram_api.called("sendMessage")
    assert sent.params["text"] == "The kill switch is not tripped; nothing to reset."
    assert control.actions == []


async def test_stranger_is_refused_and_the_switch_stays_tripped(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    control.kill_switch_reason = REASON
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    update = load_update("command_group_stranger")
    update["message"]["text"] = "/reset_kill_switch@ffe_test_bot"
    update["message"]["entities"][0]["length"] = len("/reset_kill_switch@ffe_test_bot")

    status, body = await post(webhook, update)

    assert (status, body["outcome"]) == (200, "refused")
    assert control.actions == []
    assert (await control.agent_status()).kill_switch.tripped
    [sent] = telegram_api.called("sendMessage")
    assert sent.params["text"].startswith("Sorry, you are not allowed to control this bot.")
    [record] = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert "/reset_kill_switch" in record.getMessage()
    assert record.allowed is False  # type: ignore[attr-defined]


async def test_status_of_a_tripped_switch_points_to_the_command(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.kill_switch_reason = REASON
    await post(webhook, command_update("/status"))
    [sent] = telegram_api.called("sendMessage")
    assert "🛑 kill switch tripped: drawdown 21.00%" in sent.params["text"]
    assert "/reset_kill_switch" in sent.params["text"]


async def test_help_lists_the_reset_command(
    webhook: TelegramWebhook, telegram_api: FakeBotApi
) -> None:
    await post(webhook, command_update("/help"))
    [sent] = telegram_api.called("sendMessage")
    assert "/reset_kill_switch" in sent.params["text"]
