"""Short, phone-readable Telegram texts (HTML parse mode): alerts, approvals and their outcome.

Every value from outside is escaped; texts are cut before escaping so no entity is split.
"""

from __future__ import annotations

import html
from datetime import datetime
from decimal import Decimal

from ffe_core.domain.approvals import Approval, ApprovalCard, ApprovalStatus
from ffe_core.ports.notify import EventKind, Notification

PARSE_MODE = "HTML"
MAX_TEXT = 4000  # Telegram allows 4096 characters; keep a margin for the resolution line
CALLBACK_PREFIX = "appr"
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data

ICONS: dict[EventKind, str] = {
    EventKind.DECISION: "🧭",
    EventKind.FILL: "✅",
    EventKind.RISK_REJECTION: "🚧",
    EventKind.KILL_SWITCH: "🛑",
    EventKind.ERROR: "⚠️",
    EventKind.DAILY_SUMMARY: "📊",
    EventKind.AGENT: "🤖",
    EventKind.BUDGET: "💸",
}
HEADLINE_KEYS = ("instrument", "action", "side", "size", "quantity", "price", "confidence")
RISK_KEYS = ("stop_loss", "take_profit", "risk", "exposure", "drawdown", "pnl", "equity")
MAX_REASONS = 3


def esc(value: object, limit: int = 300) -> str:
    """HTML-escaped text, cut to ``limit`` characters first."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def _label(key: str) -> str:
    return key.replace("_", " ")


def _confidence(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.0%}" if 0 <= number <= 1 else value


def _pair(key: str, value: str) -> str:
    shown = _confidence(value) if key == "confidence" else value
    return f"{esc(_label(key))} <b>{esc(shown, 60)}</b>"


def top_reasons(body: str, limit: int = MAX_REASONS) -> list[str]:
    """The first ``limit`` non-empty lines of ``body``, bullets stripped."""
    lines = (line.strip().lstrip("-•*").strip() for line in body.splitlines())
    return [line for line in lines if line][:limit]


def format_notification(event: Notification) -> str:
    """Title, headline figures, risk figures, top reasons, then any other field."""
    icon = ICONS.get(event.kind, "•")
    title = esc(event.title, 120)
    if event.kind is EventKind.KILL_SWITCH:
        title = f"KILL SWITCH — {title}"
    lines = [f"{icon} <b>{title}</b>"]
    fields = dict(event.fields)
    headline = [_pair(k, fields.pop(k)) for k in HEADLINE_KEYS if k in fields]
    if headline:
        lines.append(" · ".join(headline))
    risk = [_pair(k, fields.pop(k)) for k in RISK_KEYS if k in fields]
    if risk:
        lines.append(" · ".join(risk))
    reasons = top_reasons(event.body)
    if event.kind in (EventKind.ERROR, EventKind.KILL_SWITCH) and event.body:
        lines.append(esc(event.body, 600))
    elif reasons:
        lines.extend(f"• {esc(reason, 160)}" for reason in reasons)
    lines.extend(f"{esc(_label(k), 40)}: {esc(v, 120)}" for k, v in fields.items())
    return "\n".join(lines)[:MAX_TEXT]


def _quantity(value: Decimal) -> str:
    """``0.0125`` / ``1.5``: every digit, no exponent, no trailing zeros."""
    return f"{value.normalize():f}" if value.is_finite() else str(value)


def _money(value: Decimal) -> str:
    """``1,234.50``: two decimals, thousands separated."""
    return f"{value:,.2f}" if value.is_finite() else str(value)


def approval_figures(approval: Approval) -> str | None:
    """``size <b>0.01</b> · notional <b>500.00</b> @ 50,000.00``: what approving commits to.

    The size is what the risk manager sized at decision time, the cap the order is held to.
    """
    parts = []
    if approval.size is not None:
        parts.append(f"size <b>{esc(_quantity(approval.size), 40)}</b>")
    if approval.notional is not None:
        parts.append(f"notional <b>{esc(_money(approval.notional), 40)}</b>")
    if not parts:
        return None
    price = approval.reference_price
    return " · ".join(parts) + (f" @ {esc(_money(price), 40)}" if price is not None else "")


def _optional_money(value: Decimal | None) -> str:
    return "n/a" if value is None else _money(value)


def card_lines(card: ApprovalCard) -> list[str]:
    """Exposure and VaR before → after, agreement and calibration, the expected fill."""
    lines = [
        f"exposure {_money(card.exposure_before)} → <b>{_money(card.exposure_after)}</b> · "
        f"VaR 95% {_optional_money(card.var_before)} → "
        f"<b>{_optional_money(card.var_after)}</b>"
    ]
    agree = f"{card.agreeing}/{card.voters} providers agree"
    if card.brier:
        scores = ", ".join(
            f"{esc(p, 40)} {'n/a' if b is None else f'{b:.3f}'}" for p, b in card.brier.items()
        )
        agree += f" · Brier (last {card.brier_window}): {scores}"
    lines.append(agree)
    if card.expected_price is not None:
        cost = _optional_money(card.expected_cost)
        lines.append(f"expected fill {_money(card.expected_price)} · cost {cost}")
    return lines


def countdown(seconds: float) -> str:
    """``14m 05s`` / ``1h 02m`` / ``expired``."""
    if seconds <= 0:
        return "expired"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def format_approval_request(approval: Approval, now: datetime | None = None) -> str:
    """The message shown with the Approve / ½ / ¼ / Reject buttons (``now``: the countdown's
    start, by default when the approval was created)."""
    lines = [f"🔔 <b>Approval needed</b> · <b>{esc(approval.instrument, 32)}</b>"]
    if approval.summary:
        lines.append(esc(approval.summary, 1500))
    figures = approval_figures(approval)
    if figures:
        lines.append(figures)
    if approval.card is not None:
        lines.extend(card_lines(approval.card))
    if approval.approved_size is not None:
        lines.append(f"approved size <b>{esc(_quantity(approval.approved_size), 40)}</b>")
    left = (approval.expires_at - (now or approval.created_at)).total_seconds()
    unanswered = "approved" if approval.on_expiry == "approve" else "denied"
    lines.append(
        f"⏳ expires in {countdown(left)} ({approval.expires_at:%H:%M} UTC; then {unanswered})"
        f" · id <code>{esc(approval.id, 64)}</code>"
    )
    return "\n".join(lines)


def display_name(decided_by: str | None) -> str:
    """Who decided, without our channel prefix (``telegram:@alice`` → ``@alice``)."""
    if not decided_by:
        return "someone"
    return decided_by.removeprefix("telegram:")


def resolution_line(approval: Approval, now: datetime) -> str:
    """``✅ Approved by @user`` / ``❌ Rejected by …`` / ``⌛ Expired — not executed[: why]`` /
    ``↪ Superseded — why`` / ``⚠ Failed — not executed: why`` / ``🔔 Still pending``."""
    status = approval.effective_status(now)
    reason = esc(approval.reason, 200) if approval.reason else None
    if status is ApprovalStatus.APPROVED:
        return f"✅ Approved by {esc(display_name(approval.decided_by), 80)}"
    if status is ApprovalStatus.REJECTED:
        return f"❌ Rejected by {esc(display_name(approval.decided_by), 80)}"
    if status is ApprovalStatus.EXPIRED:
        # one still stored pending (past its expiry, not yet swept) has no reason yet
        if reason and approval.status is ApprovalStatus.EXPIRED:
            return f"⌛ Expired — not executed: {reason.removeprefix('expired: ')}"
        return "⌛ Expired — not executed"
    if status is ApprovalStatus.SUPERSEDED:
        return f"↪ Superseded — {reason or 'a newer decision replaced it'}"
    if status is ApprovalStatus.FAILED:
        return f"⚠ Failed — not executed: {reason or 'the order was refused'}"
    return "🔔 Still pending"


def format_resolved_approval(approval: Approval, now: datetime) -> str:
    """The approval message after it was decided or expired (the buttons are removed)."""
    return f"{format_approval_request(approval)}\n\n<b>{resolution_line(approval, now)}</b>"


FRACTIONS: dict[str, Decimal] = {"h": Decimal("0.5"), "q": Decimal("0.25")}
"""Approve-at-a-fraction buttons: ``h`` half the sized order, ``q`` a quarter."""


def callback_data(approval_id: str, approve: bool, fraction: str | None = None) -> str:
    """``appr:<approval_id>:y`` / ``…:n`` / ``…:h`` (approve ½) / ``…:q`` (approve ¼); raises
    ValueError past Telegram's 64-byte limit."""
    answer = fraction if approve and fraction in FRACTIONS else "y" if approve else "n"
    data = f"{CALLBACK_PREFIX}:{approval_id}:{answer}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"approval id too long for callback_data ({len(data.encode())} bytes)")
    return data


def parse_callback_data(data: str | None) -> tuple[str, bool, Decimal | None] | None:
    """``(approval_id, approve, fraction of the sized order or None)`` from our button data;
    None for anything else."""
    if not data:
        return None
    prefix, _, rest = data.partition(":")
    approval_id, _, answer = rest.rpartition(":")
    if prefix != CALLBACK_PREFIX or not approval_id or answer not in ("y", "n", *FRACTIONS):
        return None
    return approval_id, answer != "n", FRACTIONS.get(answer)
