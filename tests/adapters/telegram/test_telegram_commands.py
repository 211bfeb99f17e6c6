"""Bot commands through the webhook, answered from the ControlPlane."""

from __future__ import annotations

import logging

import pytest
from telegram_fake_api import FakeBotApi
from telegram_fake_control import FakeControlPlane, sample_decision, with_position
from telegram_helpers import ALICE, T0, command_update, load_update, post

from ffe_adapters.notify.telegram.handlers import AUDIT_LOGGER
from ffe_adapters.notify.telegram.webhook import TelegramWebhook
from ffe_core.domain.agent import AgentState


async def reply_to(webhook: TelegramWebhook, api: FakeBotApi, text: str) -> str:
    status, body = await post(webhook, command_update(text))
    assert status == 200, body
    [sent] = api.called("sendMessage")
    assert sent.params["chat_id"] == str(ALICE)
    return sent.params["text"]


async def test_status(webhook: TelegramWebhook, telegram_api: FakeBotApi) -> None:
    text = await reply_to(webhook, telegram_api, "/status")
    assert "Agent <b>stopped</b>" in text
    assert "watching BTC-USD" in text


async def test_positions(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.book = with_position(control.book)
    text = await reply_to(webhook, telegram_api, "/positions")
    assert "cash <b>10,000.00 USD</b>" in text
    assert "<b>BTC-USD</b> 0.01 @ 50,000.00" in text


async def test_positions_when_flat(webhook: TelegramWebhook, telegram_api: FakeBotApi) -> None:
    assert "no open positions" in await reply_to(webhook, telegram_api, "/positions")


async def test_decisions(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.decisions.append(sample_decision(T0))
    text = await reply_to(webhook, telegram_api, "/decisions")
    assert "<b>BUY BTC-USD</b> · conf 72% · size 0.01 · @ 50,000.00" in text
    assert "Trend up on 4h" in text


async def test_decisions_when_none(webhook: TelegramWebhook, telegram_api: FakeBotApi) -> None:
    assert await reply_to(webhook, telegram_api, "/decisions") == "No decisions yet."


async def test_approvals_lists_only_pending(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("a1", summary="BUY 0.01 BTC-USD <market>")
    control.add_approval("a2")
    await control.resolve_approval("a2", True, "api:admin")
    text = await reply_to(webhook, telegram_api, "/approvals")
    assert "BUY 0.01 BTC-USD &lt;market&gt; (expires in 5m)" in text
    assert text.count("<b>BTC-USD</b>") == 1


async def test_start_pause_resume_stop_drive_the_agent(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    for n, command in enumerate(["/start_agent", "/pause", "/resume", "/stop_agent"]):
        await post(webhook, command_update(command, update_id=n))

    by = "telegram:@alice"
    assert control.actions == [("start", by), ("pause", by), ("resume", by), ("stop", by)]
    assert control.state is AgentState.STOPPED
    replies = [c.params["text"] for c in telegram_api.called("sendMessage")]
    assert [r.splitlines()[0] for r in replies] == [
        "Agent started.",
        "Agent paused.",
        "Agent resumed.",
        "Agent stopped.",
    ]
    assert len([r for r in caplog.records if r.name == AUDIT_LOGGER]) == 4


async def test_conflict_is_reported_not_raised(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    text = await reply_to(webhook, telegram_api, "/pause")
    assert text == "⚠️ ConflictError: cannot pause: agent is stopped"
    assert "parse_mode" not in telegram_api.called("sendMessage")[0].params
    assert control.state is AgentState.STOPPED


@pytest.mark.parametrize("text", ["/help", "/start", "/help@ffe_test_bot extra words"])
async def test_help_lists_every_command(
    webhook: TelegramWebhook, telegram_api: FakeBotApi, text: str
) -> None:
    reply = await reply_to(webhook, telegram_api, text)
    for command in (
        "/status",
        "/positions",
        "/decisions",
        "/start_agent",
        "/stop_agent",
        "/pause",
        "/approvals",
        "/help",
    ):
        assert command in reply


async def test_unknown_command_points_to_help(
    webhook: TelegramWebhook, telegram_api: FakeBotApi
) -> None:
    assert "Send /help" in await reply_to(webhook, telegram_api, "/moon")


async def test_plain_text_is_ignored(webhook: TelegramWebhook, telegram_api: FakeBotApi) -> None:
    status, body = await post(webhook, command_update("hello there"))
    assert (status, body["outcome"]) == (200, "ignored")
    assert telegram_api.calls == []


async def test_stranger_command_is_refused_politely_and_audited(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    control.state = AgentState.RUNNING
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)

    status, body = await post(webhook, load_update("command_group_stranger"))

    assert (status, body["outcome"]) == (200, "refused")
    assert control.state is AgentState.RUNNING
    assert control.actions == []
    [sent] = telegram_api.called("sendMessage")
    assert sent.params["chat_id"] == "-1001234567890"
    assert sent.params["text"].startswith("Sorry, you are not allowed to control this bot.")
    assert "6666" in sent.params["text"]
    [record] = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert "/stop_agent" in record.getMessage()
    assert record.user_id == 6666  # type: ignore[attr-defined]


async def test_allow_listed_user_may_command_from_a_group(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    update = load_update("command_group_stranger")
    update["message"]["from"] = {"id": ALICE, "is_bot": False, "first_name": "Alice"}
    control.state = AgentState.RUNNING

    status, body = await post(webhook, update)

    assert (status, body["outcome"]) == (200, "command")
    assert control.actions == [("stop", f"telegram:{ALICE}")]
