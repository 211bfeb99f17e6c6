"""What the bot does with one update (from the webhook or from polling): buttons and commands.

Only allow-listed users or chats may approve or control; everyone else is refused politely and
recorded on the ``ffe.audit`` logger. Every control action is audited too.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import StrEnum

from telegram import Bot, CallbackQuery, Message, Update, User
from telegram.error import TelegramError

from ffe_adapters.notify.telegram.approvals import edit_to_resolution
from ffe_adapters.notify.telegram.bot import LOGGER_NAME, redact
from ffe_adapters.notify.telegram.config import TelegramConfig
from ffe_adapters.notify.telegram.messages import (
    PARSE_MODE,
    esc,
    parse_callback_data,
    resolution_line,
)
from ffe_adapters.notify.telegram.replies import (
    format_approvals,
    format_decisions,
    format_help,
    format_positions,
    format_status,
)
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.errors import (
    ConflictError,
    FfeError,
    InvalidTransition,
    NotFoundError,
    ValidationFailed,
)
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.control import AUDIT_LOGGER as AUDIT_LOGGER  # the audit log, re-exported
from ffe_core.ports.control import AgentStatus, ControlPlane
from ffe_core.services.approvals import ApprovalConflict

_audit = logging.getLogger(AUDIT_LOGGER)
_log = logging.getLogger(LOGGER_NAME)

REFUSAL = (
    "Sorry, you are not allowed to control this bot. "
    "Your id is {user_id}; the owner can add it to adapters.telegram.allowed_chat_ids."
)
BUTTON_REFUSAL = "Sorry, you are not allowed to approve or reject trades."


class Outcome(StrEnum):
    """What happened to an update; the webhook returns it and tests assert on it."""

    APPROVAL = "approval"
    COMMAND = "command"
    REFUSED = "refused"
    IGNORED = "ignored"


def actor(user: User | None) -> str:
    """How a Telegram user is recorded as ``decided_by`` / ``by``: ``telegram:@name`` or id."""
    if user is None:
        return "telegram:unknown"
    return f"telegram:@{user.username}" if user.username else f"telegram:{user.id}"


class TelegramUpdateHandler:
    """Dispatches one ``Update``: approval buttons and the commands of ``replies.COMMANDS``."""

    def __init__(
        self, bot: Bot, control: ControlPlane, config: TelegramConfig, clock: Clock | None = None
    ) -> None:
        self.bot = bot
        self._control = control
        self._config = config
        self._clock = clock or SystemClock()
        self._commands: dict[str, Callable[[str], Awaitable[str]]] = {
            "status": self._status,
            "positions": self._positions,
            "decisions": self._decisions,
            "approvals": self._approvals,
            "start_agent": self._start_agent,
            "stop_agent": self._stop_agent,
            "pause": self._pause,
            "resume": self._resume,
            "reset_kill_switch": self._reset_kill_switch,
            "help": self._help,
            "start": self._help,  # what Telegram sends when someone first opens the bot
        }

    async def process(self, update: Update) -> Outcome:
        if update.callback_query is not None:
            return await self._on_callback(update.callback_query)
        if update.message is not None:
            return await self._on_message(update.message)
        return Outcome.IGNORED

    # -- approval buttons --------------------------------------------------------------------

    async def _on_callback(self, query: CallbackQuery) -> Outcome:
        user, message = query.from_user, query.message
        chat_id = message.chat.id if message is not None else None
        if not self._config.is_allowed(user.id, chat_id):
            self._refusal_audit("callback", user, chat_id, query.data or "")
            await self._answer(query, BUTTON_REFUSAL, alert=True)
            return Outcome.REFUSED
        parsed = parse_callback_data(query.data)
        if parsed is None:
            await self._answer(query, "This button is not recognised.")
            return Outcome.IGNORED
        approval_id, approve, fraction = parsed
        by = actor(user)
        try:
            size = await self._fraction_of(approval_id, fraction)
            approval = await self._control.resolve_approval(approval_id, approve, by, size)
        except NotFoundError:
            await self._answer(query, "This approval no longer exists.", alert=True)
            return Outcome.APPROVAL
        except ApprovalConflict as exc:
            # not pending (any more): a double tap, a late tap, someone else was first, or it
            # expired / was superseded / failed. Answer with its true state, as for any tap.
            approval = exc.approval
        except (ConflictError, InvalidTransition, ValidationFailed) as exc:  # e.g. kill switch
            await self._answer(query, f"Not changed: {exc}"[:200], alert=True)
            return Outcome.APPROVAL
        status = approval.effective_status(self._clock.now())
        tapped = "reject" if not approve else f"approve x{fraction}" if fraction else "approve"
        _audit.info(
            "telegram %s tapped %s on approval %s: now %s",
            by,
            tapped,
            approval_id,
            status.value,
            extra=_audit_extra("approval", user, chat_id, approval_id, allowed=True),
        )
        await self._answer(query, self._answer_text(approval, approve, by), alert=False)
        if message is not None and status is not ApprovalStatus.PENDING:
            await edit_to_resolution(
                self.bot, message.chat.id, message.message_id, approval, self._clock
            )
        return Outcome.APPROVAL

    async def _fraction_of(self, approval_id: str, fraction: Decimal | None) -> Decimal | None:
        """``fraction`` of the pending approval's sized order (None: the whole, or unknown;
        the control plane then answers with the approval's true state)."""
        if fraction is None:
            return None
        for pending in await self._control.pending_approvals():
            if pending.id == approval_id:
                if pending.size is None:
                    raise ValidationFailed("this approval has no sized order to scale")
                return pending.size * fraction
        return None

    def _answer_text(self, approval: Approval, approve: bool, by: str) -> str:
        """The true state; says "Already decided" when someone else (or another tap) decided."""
        status = approval.effective_status(self._clock.now())
        line = resolution_line(approval, self._clock.now())
        wanted = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        decided = status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
        mine = status is wanted and approval.decided_by == by
        text = f"Already decided: {line}" if decided and not mine else line
        return html.unescape(text)[:200]  # callback answers are plain text

    async def _answer(self, query: CallbackQuery, text: str, alert: bool = False) -> None:
        try:
            await self.bot.answer_callback_query(query.id, text=text, show_alert=alert)
        except TelegramError as exc:  # the query is older than Telegram keeps it: not fatal
            _log.warning("answerCallbackQuery failed: %s", redact(str(exc)))

    # -- commands ----------------------------------------------------------------------------

    async def _on_message(self, message: Message) -> Outcome:
        command = _command_of(message)
        if command is None:
            return Outcome.IGNORED
        user = message.from_user
        user_id = user.id if user is not None else None
        if not self._config.is_allowed(user_id, message.chat.id):
            self._refusal_audit("command", user, message.chat.id, f"/{command}")
            await self._reply(message, REFUSAL.format(user_id=user_id), html=False)
            return Outcome.REFUSED
        run = self._commands.get(command)
        if run is None:
            await self._reply(message, f"Unknown command /{command}. Send /help for the list.")
            return Outcome.IGNORED
        try:
            text = await run(actor(user))
        except FfeError as exc:
            text = f"⚠️ {type(exc).__name__}: {exc}"
        await self._reply(message, text, html=not text.startswith("⚠️"))
        return Outcome.COMMAND

    async def _reply(self, message: Message, text: str, html: bool = True) -> None:
        try:
            await self.bot.send_message(
                chat_id=message.chat.id, text=text, parse_mode=PARSE_MODE if html else None
            )
        except TelegramError as exc:
            _log.warning("reply to chat %s failed: %s", message.chat.id, redact(str(exc)))

    async def _status(self, by: str) -> str:
        return format_status(await self._control.agent_status())

    async def _positions(self, by: str) -> str:
        return format_positions(await self._control.portfolio())

    async def _decisions(self, by: str) -> str:
        return format_decisions(await self._control.recent_decisions(limit=5))

    async def _approvals(self, by: str) -> str:
        return format_approvals(await self._control.pending_approvals(), self._clock.now())

    async def _help(self, by: str) -> str:
        return format_help()

    async def _start_agent(self, by: str) -> str:
        return self._controlled("started", await self._control.start_agent(by), by)

    async def _stop_agent(self, by: str) -> str:
        return self._controlled("stopped", await self._control.stop_agent(by), by)

    async def _pause(self, by: str) -> str:
        return self._controlled("paused", await self._control.pause_agent(by), by)

    async def _resume(self, by: str) -> str:
        return self._controlled("resumed", await self._control.resume_agent(by), by)

    async def _reset_kill_switch(self, by: str) -> str:
        before = (await self._control.agent_status()).kill_switch
        if not before.tripped:
            return "The kill switch is not tripped; nothing to reset."
        status = await self._control.reset_kill_switch(by)
        if status.kill_switch.tripped:
            return f"⚠️ The kill switch is still tripped: {status.kill_switch.reason}"
        when = before.at.strftime("%Y-%m-%d %H:%M UTC") if before.at else "unknown time"
        _audit.warning(
            "telegram %s reset the kill switch (it had tripped at %s: %s)",
            by,
            when,
            before.reason,
            extra={
                "channel": "telegram",
                "action": "kill_switch_reset",
                "by": by,
                "tripped_reason": before.reason,
                "tripped_at": before.at.isoformat() if before.at else None,
            },
        )
        return (
            f"✅ Kill switch reset by {esc(by)}.\n"
            f"It had tripped at {when}: {esc(before.reason or 'no reason recorded')}\n"
            "The agent stays stopped: /start_agent to trade again.\n"
            f"{format_status(status)}"
        )

    def _controlled(self, verb: str, status: AgentStatus, by: str) -> str:
        _audit.info("telegram %s %s the agent", by, verb, extra={"channel": "telegram", "by": by})
        return f"Agent {verb}.\n{format_status(status)}"

    # -- audit -------------------------------------------------------------------------------

    def _refusal_audit(self, kind: str, user: User | None, chat_id: int | None, what: str) -> None:
        _audit.warning(
            "telegram refused %s %r from user %s in chat %s (not on adapters.telegram.allowed_chat_ids)",
            kind,
            what[:80],
            user.id if user is not None else None,
            chat_id,
            extra=_audit_extra(kind, user, chat_id, what[:80], allowed=False),
        )


def _audit_extra(
    kind: str, user: User | None, chat_id: int | None, what: str, *, allowed: bool
) -> dict[str, object]:
    return {
        "channel": "telegram",
        "action": kind,
        "target": what,
        "user_id": user.id if user is not None else None,
        "username": user.username if user is not None else None,
        "chat_id": chat_id,
        "allowed": allowed,
    }


def _command_of(message: Message) -> str | None:
    """``status`` from ``/status`` or ``/status@ffe_bot args``; None for plain text."""
    text = message.text or ""
    if not text.startswith("/"):
        return None
    word = text.split(maxsplit=1)[0][1:]
    return word.split("@", 1)[0].lower() or None
