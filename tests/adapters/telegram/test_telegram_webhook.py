"""Approvals by button through the webhook, and the webhook's security checks."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from telegram_fake_api import FakeBotApi
from telegram_fake_control import FakeControlPlane
from telegram_helpers import ALICE, SECRET, TOKEN, callback_update, load_update, post

from ffe_adapters.notify.telegram.handlers import AUDIT_LOGGER
from ffe_adapters.notify.telegram.webhook import TelegramWebhook
from ffe_core.domain.approvals import ApprovalStatus
from ffe_core.ports.clock import ManualClock


async def test_approve_tap_approves_answers_and_edits_the_message(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("appr0001")

    status, body = await post(webhook, load_update("callback_approve"))

    assert (status, body["outcome"]) == (200, "approval")
    approval = control.approvals["appr0001"]
    assert approval.status is ApprovalStatus.APPROVED
    assert approval.decided_by == "telegram:@alice"
    [answer] = telegram_api.called("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    assert answer.params["text"] == "✅ Approved by @alice"
    [edit] = telegram_api.called("editMessageText")
    assert (edit.params["chat_id"], edit.params["message_id"]) == (str(ALICE), "101")
    assert "✅ Approved by @alice" in edit.params["text"]
    assert edit.params["parse_mode"] == "HTML"
    assert "reply_markup" not in edit.params  # the buttons are removed


async def test_reject_tap_rejects(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("appr0002")

    status, _ = await post(webhook, callback_update("appr0002", "n"))

    assert status == 200
    assert control.approvals["appr0002"].status is ApprovalStatus.REJECTED
    assert telegram_api.called("answerCallbackQuery")[0].params["text"] == "❌ Rejected by @alice"
    assert "❌ Rejected by @alice" in telegram_api.called("editMessageText")[0].params["text"]


async def test_double_tap_and_replay_keep_the_first_answer(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("appr0003")
    first = callback_update("appr0003", "y", update_id=1)

    await post(webhook, first)
    await post(webhook, first)  # Telegram redelivering the same update
    await post(webhook, callback_update("appr0003", "n", update_id=2))  # a late "reject"

    approval = control.approvals["appr0003"]
    assert approval.status is ApprovalStatus.APPROVED
    texts = [c.params["text"] for c in telegram_api.called("answerCallbackQuery")]
    assert texts == [
        "✅ Approved by @alice",
        "✅ Approved by @alice",
        "Already decided: ✅ Approved by @alice",
    ]
    assert all(
        "Approved by @alice" in c.params["text"] for c in telegram_api.called("editMessageText")
    )


async def test_quarter_tap_approves_a_quarter_of_the_sized_order(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("appr0031")  # sized 0.01

    await post(webhook, callback_update("appr0031", "q"))

    approval = control.approvals["appr0031"]
    assert approval.status is ApprovalStatus.APPROVED
    assert approval.approved_size == Decimal("0.0025")
    assert telegram_api.called("answerCallbackQuery")[0].params["text"] == "✅ Approved by @alice"
    assert "approved size <b>0.0025</b>" in telegram_api.called("editMessageText")[0].params["text"]


async def test_a_fraction_tap_on_an_unsized_approval_approves_nothing(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    unsized = control.add_approval("appr0032").model_copy(update={"size": None})
    control.approvals["appr0032"] = unsized

    await post(webhook, callback_update("appr0032", "h"))  # a forged ½ (no button is shown)

    assert control.approvals["appr0032"].status is ApprovalStatus.PENDING
    answer = telegram_api.called("answerCallbackQuery")[0].params["text"]
    assert answer == "Not changed: this approval has no sized order to scale"


async def test_decision_by_someone_else_is_reported_as_already_decided(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("appr0004")
    await control.resolve_approval("appr0004", False, "api:admin")

    await post(webhook, callback_update("appr0004", "y"))

    assert control.approvals["appr0004"].status is ApprovalStatus.REJECTED
    answer = telegram_api.called("answerCallbackQuery")[0].params["text"]
    assert answer == "Already decided: ❌ Rejected by api:admin"


async def test_late_tap_after_expiry_is_answered_expired(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    clock: ManualClock,
) -> None:
    control.add_approval("appr0005", minutes=5)
    clock.advance(6 * 60)

    status, _ = await post(webhook, callback_update("appr0005", "y"))

    assert status == 200
    assert control.approvals["appr0005"].status is ApprovalStatus.EXPIRED
    assert telegram_api.called("answerCallbackQuery")[0].params["text"] == (
        "⌛ Expired — not executed: nobody answered in time"
    )
    assert "⌛ Expired" in telegram_api.called("editMessageText")[0].params["text"]


async def test_tap_on_a_superseded_approval_answers_superseded_and_edits(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    older = control.add_approval("appr0006")
    control.approvals["appr0006"] = older.supersede("d-newer")

    status, body = await post(webhook, callback_update("appr0006", "y"))

    assert (status, body["outcome"]) == (200, "approval")
    assert control.approvals["appr0006"].status is ApprovalStatus.SUPERSEDED
    answer = telegram_api.called("answerCallbackQuery")[0].params
    assert answer["text"] == "↪ Superseded — superseded by decision d-newer"
    [edit] = telegram_api.called("editMessageText")
    assert "<b>↪ Superseded — superseded by decision d-newer</b>" in edit.params["text"]
    assert "reply_markup" not in edit.params


async def test_approve_that_the_gate_refuses_answers_failed_with_the_reason(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("appr0007")
    control.gate_refuses = "a working order on BTC-USD already exists"

    await post(webhook, callback_update("appr0007", "y", update_id=1))
    await post(webhook, callback_update("appr0007", "n", update_id=2))  # a late reject

    approval = control.approvals["appr0007"]
    assert approval.status is ApprovalStatus.FAILED
    assert approval.decided_by == "telegram:@alice"
    line = "⚠ Failed — not executed: a working order on BTC-USD already exists"
    texts = [c.params["text"] for c in telegram_api.called("answerCallbackQuery")]
    assert texts == [line, line]  # the late tap gets the true state, nothing changes
    edits = telegram_api.called("editMessageText")
    assert len(edits) == 2
    assert all(f"<b>{line}</b>" in e.params["text"] for e in edits)


async def test_approve_while_the_kill_switch_is_tripped_is_refused_and_stays_pending(
    webhook: TelegramWebhook, control: FakeControlPlane, telegram_api: FakeBotApi
) -> None:
    control.add_approval("appr0008")
    control.kill_switch_reason = "daily loss limit"

    status, _ = await post(webhook, callback_update("appr0008", "y"))

    assert status == 200
    assert control.approvals["appr0008"].status is ApprovalStatus.PENDING
    answer = telegram_api.called("answerCallbackQuery")[0].params
    assert answer["text"].startswith("Not changed: the kill switch is tripped (daily loss limit)")
    assert answer["show_alert"] == "true"
    assert telegram_api.called("editMessageText") == []  # the buttons stay: it can be rejected

    await post(webhook, callback_update("appr0008", "n", update_id=2))

    rejected = control.approvals["appr0008"]  # rejecting stays possible
    assert rejected.status is ApprovalStatus.REJECTED


async def test_unknown_approval_is_answered_without_editing(
    webhook: TelegramWebhook, telegram_api: FakeBotApi
) -> None:
    status, _ = await post(webhook, callback_update("gone", "y"))

    assert status == 200
    assert telegram_api.called("answerCallbackQuery")[0].params["text"] == (
        "This approval no longer exists."
    )
    assert telegram_api.called("editMessageText") == []


async def test_non_allow_listed_user_is_refused_and_audited(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    control.add_approval("appr0001")
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)

    status, body = await post(webhook, load_update("callback_stranger"))

    assert (status, body["outcome"]) == (200, "refused")
    assert control.approvals["appr0001"].status is ApprovalStatus.PENDING
    answer = telegram_api.called("answerCallbackQuery")[0]
    assert answer.params["text"].startswith("Sorry, you are not allowed")
    assert answer.params["show_alert"] == "true"
    [record] = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert record.levelno == logging.WARNING
    assert (record.user_id, record.chat_id, record.allowed) == (6666, -1001234567890, False)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("secret", "expected"), [(None, 401), ("wrong-secret", 403), (SECRET + "x", 403), ("", 403)]
)
async def test_missing_or_wrong_secret_is_refused_before_parsing(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    secret: str | None,
    expected: int,
) -> None:
    control.add_approval("appr0001")

    for body in (load_update("callback_approve"), b"{not json"):
        status, answer = await post(webhook, body, secret=secret)
        assert status == expected
        assert answer["ok"] is False
        assert "JSON" not in answer["error"]  # refused before the body was read

    assert control.approvals["appr0001"].status is ApprovalStatus.PENDING
    assert telegram_api.calls == []


async def test_secret_header_name_is_case_insensitive(
    webhook: TelegramWebhook, telegram_api: FakeBotApi
) -> None:
    body = b'{"update_id": 5}'
    status, _ = await webhook.handle({"x-telegram-bot-api-secret-token": SECRET}, body)
    assert status == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[1, 2]", "no integer update_id"),
        (b'{"message": {}}', "no integer update_id"),
        (b'{"update_id": "7"}', "no integer update_id"),
        (b'{"update_id": 7, "message": {"text": "/status"}}', "malformed update"),
        (b'{"update_id": 7, "callback_query": {"id": "1"}}', "malformed update"),
    ],
)
async def test_malformed_update_is_400_with_a_reason(
    webhook: TelegramWebhook, telegram_api: FakeBotApi, body: bytes, reason: str
) -> None:
    status, answer = await post(webhook, body)

    assert status == 400
    assert reason in answer["error"]
    assert telegram_api.calls == []


async def test_unhandled_update_kinds_are_acknowledged_and_ignored(
    webhook: TelegramWebhook, telegram_api: FakeBotApi
) -> None:
    status, body = await post(webhook, load_update("edited_message"))

    assert (status, body["outcome"]) == (200, "ignored")
    assert telegram_api.calls == []


async def test_token_never_appears_in_logs_or_answers(
    webhook: TelegramWebhook,
    control: FakeControlPlane,
    telegram_api: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # ffe's logging setup (run by earlier tests in this process) quiets httpx to WARNING
    caplog.set_level(logging.DEBUG, logger="httpx")
    control.add_approval("appr0001")
    telegram_api.fail_next("answerCallbackQuery", 400, "Bad Request: query is too old")
    telegram_api.fail_next("editMessageText", 403, "Forbidden: bot was blocked by the user")

    answers = [
        await post(webhook, load_update("callback_approve")),
        await post(webhook, b"{broken"),
        await post(webhook, load_update("callback_approve"), secret="nope"),
        await post(webhook, load_update("command_group_stranger")),
    ]

    assert telegram_api.calls  # the bot did talk to the API, with the token in every URL
    assert all(TOKEN in path for path in telegram_api.paths)
    assert TOKEN not in caplog.text
    assert SECRET not in caplog.text
    assert all(TOKEN not in str(answer) for answer in answers)
    assert "<redacted>" in caplog.text  # the HTTP client's request lines were rewritten
