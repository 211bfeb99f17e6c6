"""TelegramApprovalChannel: the ApprovalChannel port, with Approve / Reject inline buttons."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from ffe_adapters.notify.telegram.bot import LOGGER_NAME, close_bot, redact, verify_token
from ffe_adapters.notify.telegram.messages import (
    PARSE_MODE,
    callback_data,
    format_approval_request,
    format_resolved_approval,
)
from ffe_core.domain.approvals import Approval
from ffe_core.domain.errors import FfeError
from ffe_core.ports.clock import Clock, SystemClock

_log = logging.getLogger(LOGGER_NAME)


def approval_keyboard(approval_id: str, resizable: bool = False) -> InlineKeyboardMarkup:
    """Approve / Reject, and (``resizable``: the sized order is known) approve at ½ or ¼."""
    rows = [
        [
            InlineKeyboardButton("✅ Approve", callback_data=callback_data(approval_id, True)),
            InlineKeyboardButton("❌ Reject", callback_data=callback_data(approval_id, False)),
        ]
    ]
    if resizable:
        rows.append(
            [
                InlineKeyboardButton("½ size", callback_data=callback_data(approval_id, True, "h")),
                InlineKeyboardButton("¼ size", callback_data=callback_data(approval_id, True, "q")),
            ]
        )
    return InlineKeyboardMarkup(rows)


def channel_ref(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def parse_channel_ref(ref: str | None) -> tuple[int, int] | None:
    """``(chat_id, message_id)`` from ``"<chat_id>:<message_id>"``; None when absent or foreign."""
    if not ref:
        return None
    chat, _, message = ref.rpartition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None


async def edit_to_resolution(
    bot: Bot, chat_id: int, message_id: int, approval: Approval, clock: Clock
) -> bool:
    """Replace the buttons with the outcome; True when the message shows it (already or now)."""
    try:
        await bot.edit_message_text(
            chat_id=chat_id,
            message_id=message_id,
            text=format_resolved_approval(approval, clock.now()),
            parse_mode=PARSE_MODE,
            reply_markup=None,
        )
    except BadRequest as exc:
        if "not modified" in str(exc).lower():  # a second edit with the same outcome
            return True
        _log.warning("editing approval %s failed: %s", approval.id, redact(str(exc)))
        return False
    except TelegramError as exc:
        _log.warning(
            "editing approval %s failed: %s: %s", approval.id, type(exc).__name__, redact(str(exc))
        )
        return False
    return True


class TelegramApprovalChannel:
    """Shows a pending approval in ``chat_id`` and later edits that message to its outcome."""

    name = "telegram"

    def __init__(self, bot: Bot, chat_id: int, clock: Clock | None = None) -> None:
        self.bot = bot
        self._chat_id = chat_id
        self._clock = clock or SystemClock()

    async def request_approval(self, approval: Approval) -> Approval:
        """Send it with buttons; returns it with ``channel_ref = "<chat_id>:<message_id>"``."""
        try:
            message = await self.bot.send_message(
                chat_id=self._chat_id,
                text=format_approval_request(approval),
                parse_mode=PARSE_MODE,
                reply_markup=approval_keyboard(approval.id, approval.size is not None),
            )
        except TelegramError as exc:
            raise FfeError(
                f"telegram could not show approval {approval.id}: "
                f"{type(exc).__name__}: {redact(str(exc))}"
            ) from None
        return approval.model_copy(
            update={"channel_ref": channel_ref(message.chat.id, message.message_id)}
        )

    async def show_resolution(self, approval: Approval) -> None:
        """Edit the message to ``✅ Approved by …``, ``❌ Rejected by …`` or ``⌛ Expired``."""
        ref = parse_channel_ref(approval.channel_ref)
        if ref is None:
            return
        await edit_to_resolution(self.bot, ref[0], ref[1], approval, self._clock)

    async def verify(self) -> None:
        """Refuse a token Telegram does not accept (``Verifiable``)."""
        await verify_token(self.bot)

    async def close(self) -> None:
        """Close the bot's HTTP connections (the container calls this on shutdown)."""
        await close_bot(self.bot)

    aclose = close
