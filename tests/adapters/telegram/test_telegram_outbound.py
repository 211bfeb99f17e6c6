"""Notifier, approval channel, polling, setWebhook and plugin factories against the fake API."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Bot
from telegram_fake_api import FakeBotApi
from telegram_fake_control import FakeControlPlane
from telegram_helpers import ALICE, SECRET, T0, TOKEN, callback_update, command_update, post
from tests.waiting import wait_until

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.notify.telegram.approvals import TelegramApprovalChannel
from ffe_adapters.notify.telegram.bot import api_base_url, register_webhook
from ffe_adapters.notify.telegram.config import TelegramConfig, TelegramOptions
from ffe_adapters.notify.telegram.messages import format_approval_request, resolution_line
from ffe_adapters.notify.telegram.notifier import TelegramNotifier
from ffe_adapters.notify.telegram.polling import TelegramPoller
from ffe_adapters.notify.telegram.webhook import TelegramWebhook
from ffe_adapters.registry import Registry, load_registry
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.errors import ConfigError
from ffe_core.ports.capabilities import InboundChannel
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.notify import ApprovalChannel, EventKind, Notification, Notifier


def pending(approval_id: str = "appr0001") -> Approval:
    return Approval(
        id=approval_id,
        decision_id="d1",
        instrument="BTC-USD",
        summary="BUY 0.01 @ 50,000 <limit> & conf 72%",
        created_at=T0,
        expires_at=T0 + timedelta(minutes=5),
    )


async def test_notifier_sends_a_short_html_alert_to_every_chat(
    bot: Bot, telegram_api: FakeBotApi
) -> None:
    notifier = TelegramNotifier(bot, [ALICE, 2222])
    event = Notification(
        kind=EventKind.DECISION,
        title="BUY BTC-USD",
        body="Trend up on 4h\n- Volume <rising>\nFunding neutral\nFourth reason",
        fields={
            "instrument": "BTC-USD",
            "action": "BUY",
            "size": "0.01",
            "confidence": "0.72",
            "stop_loss": "48000",
            "risk": "0.5%",
            "venue": "paper",
        },
    )

    await notifier.notify(event)

    sent = telegram_api.called("sendMessage")
    assert [c.params["chat_id"] for c in sent] == [str(ALICE), "2222"]
    text = sent[0].params["text"]
    assert sent[0].params["parse_mode"] == "HTML"
    assert text.splitlines() == [
        "🧭 <b>BUY BTC-USD</b>",
        "instrument <b>BTC-USD</b> · action <b>BUY</b> · size <b>0.01</b> · confidence <b>72%</b>",
        "stop loss <b>48000</b> · risk <b>0.5%</b>",
        "• Trend up on 4h",
        "• Volume &lt;rising&gt;",
        "• Funding neutral",
        "venue: paper",
    ]


@pytest.mark.parametrize(
    ("kind", "start"),
    [
        (EventKind.KILL_SWITCH, "🛑 <b>KILL SWITCH — drawdown 10%</b>"),
        (EventKind.ERROR, "⚠️ <b>drawdown 10%</b>"),
        (EventKind.DAILY_SUMMARY, "📊 <b>drawdown 10%</b>"),
    ],
)
async def test_alert_kinds_have_their_own_headline(
    bot: Bot, telegram_api: FakeBotApi, kind: EventKind, start: str
) -> None:
    await TelegramNotifier(bot, [ALICE]).notify(
        Notification(kind=kind, title="drawdown 10%", body="equity 9,000 & falling")
    )
    text = telegram_api.called("sendMessage")[0].params["text"]
    assert text.startswith(start)
    assert "&amp;" in text


async def test_a_failing_chat_is_logged_without_the_token_and_others_still_get_it(
    bot: Bot, telegram_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    telegram_api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")

    await TelegramNotifier(bot, [ALICE, 2222]).notify(Notification(kind=EventKind.FILL, title="x"))

    assert len(telegram_api.called("sendMessage")) == 2
    assert "bot was blocked by the user" in caplog.text
    assert TOKEN not in caplog.text


async def test_approval_round_trip_buttons_then_tap_then_edited(
    bot: Bot,
    telegram_api: FakeBotApi,
    control: FakeControlPlane,
    config: TelegramConfig,
    clock: ManualClock,
) -> None:
    channel = TelegramApprovalChannel(bot, ALICE, clock)
    control.add_approval("appr0001")

    shown = await channel.request_approval(control.approvals["appr0001"])

    [sent] = telegram_api.called("sendMessage")
    buttons = sent.json("reply_markup")["inline_keyboard"][0]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("✅ Approve", "appr:appr0001:y"),
        ("❌ Reject", "appr:appr0001:n"),
    ]
    assert shown.channel_ref == f"{ALICE}:101"
    tap = callback_update("appr0001", buttons[0]["callback_data"][-1])
    tap["callback_query"]["message"]["message_id"] = 101

    status, _ = await post(TelegramWebhook.create(bot, control, config, clock), tap)

    assert status == 200
    assert control.approvals["appr0001"].status is ApprovalStatus.APPROVED
    [edit] = telegram_api.called("editMessageText")
    assert edit.params["message_id"] == "101"
    assert edit.params["text"].endswith("<b>✅ Approved by @alice</b>")


async def test_show_resolution_edits_and_tolerates_an_identical_second_edit(
    bot: Bot, telegram_api: FakeBotApi, clock: ManualClock
) -> None:
    channel = TelegramApprovalChannel(bot, ALICE, clock)
    approval = pending().model_copy(update={"channel_ref": f"{ALICE}:55"})
    rejected = approval.resolve(ApprovalStatus.REJECTED, "telegram:@bob", T0)
    telegram_api.fail_next("editMessageText", 400, "Bad Request: message is not modified")

    await channel.show_resolution(rejected)  # already edited by the webhook: no error
    await channel.show_resolution(rejected)
    await channel.show_resolution(pending())  # never shown in Telegram: nothing to edit

    edits = telegram_api.called("editMessageText")
    assert len(edits) == 2
    assert "❌ Rejected by @bob" in edits[1].params["text"]
    assert "&lt;limit&gt; &amp; conf 72%" in edits[1].params["text"]


async def test_expired_resolution_reads_expired(
    bot: Bot, telegram_api: FakeBotApi, clock: ManualClock
) -> None:
    clock.advance(3600)
    approval = pending().model_copy(update={"channel_ref": f"{ALICE}:56"})
    await TelegramApprovalChannel(bot, ALICE, clock).show_resolution(approval)
    assert "⌛ Expired" in telegram_api.called("editMessageText")[0].params["text"]


def test_approval_request_shows_the_size_and_notional_it_commits_to() -> None:
    approval = pending().model_copy(
        update={
            "action": "BUY",
            "size": Decimal("0.012500"),
            "reference_price": Decimal("50000"),
            "notional": Decimal("625.000000"),
        }
    )

    text = format_approval_request(approval)

    assert "size <b>0.0125</b> · notional <b>625.00</b> @ 50,000.00" in text
    assert "notional" not in format_approval_request(pending())  # older approvals: no figures


@pytest.mark.parametrize(
    ("approval", "line"),
    [
        (pending(), "🔔 Still pending"),
        (
            pending().resolve(ApprovalStatus.APPROVED, "telegram:@alice", T0),
            "✅ Approved by @alice",
        ),
        (pending().resolve(ApprovalStatus.REJECTED, "api:admin", T0), "❌ Rejected by api:admin"),
        (pending().expire(), "⌛ Expired — not executed: nobody answered in time"),
        (
            pending().expire("expired: price moved 3.10% from 50000 to 51550, more than 2.00%"),
            "⌛ Expired — not executed: price moved 3.10% from 50000 to 51550, more than 2.00%",
        ),
        (pending().supersede("d2"), "↪ Superseded — superseded by decision d2"),
        (
            pending().fail("venue refused: insufficient funds <USD>"),
            "⚠ Failed — not executed: venue refused: insufficient funds &lt;USD&gt;",
        ),
    ],
)
def test_resolution_line_names_every_status_with_its_reason(approval: Approval, line: str) -> None:
    assert resolution_line(approval, T0) == line


def test_a_pending_approval_past_its_expiry_reads_expired_without_a_reason() -> None:
    assert resolution_line(pending(), T0 + timedelta(hours=1)) == "⌛ Expired — not executed"


async def test_polling_feeds_updates_to_the_same_handler(
    bot: Bot,
    telegram_api: FakeBotApi,
    control: FakeControlPlane,
    config: TelegramConfig,
    clock: ManualClock,
) -> None:
    control.add_approval("appr0001")
    telegram_api.updates += [
        callback_update("appr0001", "y", update_id=10),
        command_update("/status", update_id=11),
    ]
    poller = TelegramPoller.create(bot, control, config, clock)
    poller._poll_timeout = 0

    assert await poller.poll_once() == 2
    assert await poller.poll_once() == 0  # acknowledged: offset moved past them

    assert control.approvals["appr0001"].status is ApprovalStatus.APPROVED
    offsets = [c.params.get("offset") for c in telegram_api.called("getUpdates")]
    assert offsets == [None, "12"]
    assert len(telegram_api.called("sendMessage")) == 1


async def test_polling_start_removes_the_webhook_and_stop_ends_the_loop(
    bot: Bot, telegram_api: FakeBotApi, control: FakeControlPlane, config: TelegramConfig
) -> None:
    poller = TelegramPoller.create(bot, control, config)
    poller._poll_timeout = 0
    telegram_api.updates.append(command_update("/help", update_id=20))

    await poller.start()
    await wait_until(lambda: telegram_api.called("sendMessage"), "the reply to /help")
    await poller.stop()

    assert telegram_api.calls[0].method == "deleteWebhook"
    assert telegram_api.called("sendMessage")
    assert not poller.running


async def test_register_webhook_sends_the_secret_token(
    bot: Bot, telegram_api: FakeBotApi, config: TelegramConfig
) -> None:
    await register_webhook(bot, config)

    [call] = telegram_api.called("setWebhook")
    assert call.params["url"] == "https://ffe.example/webhook/telegram"
    assert call.params["secret_token"] == SECRET
    assert call.json("allowed_updates") == ["message", "callback_query"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://api.telegram.org/bot"),
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/bot"),
        ("http://h/custom/{token}", "http://h/custom/{token}"),
    ],
)
def test_api_base_url(given: str | None, expected: str) -> None:
    assert api_base_url(given) == expected


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(entry_points=False)


def _context(telegram: dict[str, Any]) -> AdapterContext:
    return AdapterContext(name="telegram", options=telegram)


@pytest.mark.parametrize(
    ("telegram", "message"),
    [
        ({}, "adapters.telegram.bot_token is not set"),
        ({"bot_token": SecretStr(" ")}, "adapters.telegram.bot_token is not set"),
        ({"bot_token": SecretStr(TOKEN)}, "allowed_chat_ids is empty"),
        (
            {"bot_token": SecretStr(TOKEN), "allowed_chat_ids": (1,)},
            "webhook_secret is required",
        ),
        (
            {"bot_token": SecretStr(TOKEN), "allowed_chat_ids": (1,), "mode": "carrier"},
            "adapters.telegram.mode: ",
        ),
        (
            {
                "bot_token": SecretStr(TOKEN),
                "allowed_chat_ids": (1,),
                "webhook_secret": SecretStr("has space"),
            },
            "webhook_secret must be",
        ),
    ],
)
def test_factories_refuse_an_unusable_configuration(
    registry: Registry, telegram: dict[str, Any], message: str
) -> None:
    for kind in ("notifiers", "approval_channels", "inbound_channels"):
        with pytest.raises(ConfigError, match=message) as info:
            registry.factory(kind, "telegram")(_context(telegram))
        assert TOKEN not in str(info.value)


async def test_factories_build_the_ports_in_polling_mode(
    registry: Registry, telegram_api: FakeBotApi
) -> None:
    context = _context(
        {
            "bot_token": SecretStr(TOKEN),
            "mode": "polling",
            "allowed_chat_ids": (ALICE, -100),
            "base_url": telegram_api.url,
            "approval_chat_id": -100,
            "rate_limit": False,
        }
    )

    notifier = registry.factory("notifiers", "telegram")(context)
    channel = registry.factory("approval_channels", "telegram")(context)
    try:
        assert isinstance(notifier, Notifier)
        assert isinstance(channel, ApprovalChannel)
        await channel.request_approval(pending())
        assert telegram_api.called("sendMessage")[0].params["chat_id"] == "-100"
    finally:
        await notifier.aclose()
        await channel.aclose()
    assert "log" in registry.names("notifiers")
    assert not [e for e in registry.errors if "notify" in e.plugin]


async def test_hook_ffe_inbound_channels(
    registry: Registry,
    telegram_settings: TelegramOptions,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
) -> None:
    """The registered ``telegram`` inbound channel answers a command through the control plane
    on its webhook, and ``start`` registers the webhook URL with Telegram."""
    options = telegram_settings.model_dump()
    context = AdapterContext(name="telegram", options=options, control=control)
    inbound = registry.factory("inbound_channels", "telegram")(context)
    try:
        assert isinstance(inbound, InboundChannel)
        assert inbound.webhook is not None
        status, _ = await post(inbound.webhook, command_update("/status"))
        assert status == 200
        [sent] = telegram_api.called("sendMessage")
        assert "Agent <b>stopped</b>" in sent.params["text"]
        await inbound.start()
        [registered] = telegram_api.called("setWebhook")
        assert registered.params["url"] == telegram_settings.webhook_url
    finally:
        await inbound.close()
