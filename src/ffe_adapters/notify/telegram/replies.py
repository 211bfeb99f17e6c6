"""Texts answering bot commands: status, positions, decisions, approvals, help (HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ffe_adapters.notify.telegram.messages import esc, top_reasons
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.decisions import Decision
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.control import AgentStatus

COMMANDS: dict[str, str] = {
    "status": "agent state, uptime and kill switch",
    "positions": "cash and open positions",
    "decisions": "the latest decisions",
    "approvals": "approvals waiting for you",
    "start_agent": "start the agent",
    "stop_agent": "stop the agent",
    "pause": "pause the agent",
    "resume": "resume a paused agent",
    "reset_kill_switch": "re-allow trading after the kill switch tripped",
    "help": "this list",
}
"""Command → one-line description; the order of /help."""


def format_help() -> str:
    lines = ["<b>ffe bot</b>"]
    lines.extend(f"/{name} — {text}" for name, text in COMMANDS.items())
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def format_status(status: AgentStatus) -> str:
    lines = [f"🤖 Agent <b>{esc(status.state.value)}</b>"]
    if status.started_at is not None:
        lines.append(f"up {_duration(status.uptime_seconds)} · {status.cycles} cycles")
    if status.current_phase:
        where = f" on {esc(status.current_instrument)}" if status.current_instrument else ""
        lines.append(f"now: {esc(status.current_phase)}{where}")
    if status.instruments:
        lines.append("watching " + esc(", ".join(status.instruments), 200))
    if status.kill_switch.tripped:
        lines.append(f"🛑 kill switch tripped: {esc(status.kill_switch.reason or 'no reason')}")
        lines.append("/reset_kill_switch to re-allow trading")
    if status.last_error:
        lines.append(f"⚠️ last error: {esc(status.last_error, 200)}")
    return "\n".join(lines)


def format_positions(portfolio: Portfolio) -> str:
    lines = [f"💼 cash <b>{portfolio.cash:,.2f} {esc(portfolio.currency)}</b> ({portfolio.mode})"]
    open_positions = [p for p in portfolio.positions.values() if not p.is_flat]
    if not open_positions:
        lines.append("no open positions")
    for p in sorted(open_positions, key=lambda p: p.instrument):
        lines.append(
            f"<b>{esc(p.instrument)}</b> {p.quantity.normalize():f} @ {p.average_price:,.2f}"
            + (f" · realized {p.realized_pnl:,.2f}" if p.realized_pnl else "")
        )
    return "\n".join(lines)


def format_decision(decision: Decision) -> str:
    head = f"<b>{esc(decision.action.value)} {esc(decision.instrument)}</b>"
    figures = [f"conf {decision.confidence:.0%}"]
    if decision.suggested_size is not None:
        figures.append(f"size {decision.suggested_size.normalize():f}")
    if decision.reference_price is not None:
        figures.append(f"@ {decision.reference_price:,.2f}")
    line = f"{head} · {' · '.join(figures)} · {decision.created_at:%m-%d %H:%M}"
    reasons = top_reasons(decision.reasoning, 1)
    return line + (f"\n  {esc(reasons[0], 120)}" if reasons else "")


def format_decisions(decisions: Sequence[Decision]) -> str:
    if not decisions:
        return "No decisions yet."
    return "🧭 <b>Latest decisions</b>\n" + "\n".join(format_decision(d) for d in decisions)


def format_approvals(approvals: Sequence[Approval], now: datetime) -> str:
    pending = [a for a in approvals if a.effective_status(now) is ApprovalStatus.PENDING]
    if not pending:
        return "No approvals waiting."
    lines = ["🔔 <b>Waiting for approval</b>"]
    for a in pending:
        minutes = max(0, int((a.expires_at - now).total_seconds() // 60))
        summary = f" — {esc(a.summary, 120)}" if a.summary else ""
        lines.append(f"<b>{esc(a.instrument)}</b>{summary} (expires in {minutes}m)")
    lines.append("Use the buttons on each approval message to decide.")
    return "\n".join(lines)
