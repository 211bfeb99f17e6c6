"""Notifications and pending approvals written to stdlib logging (logger ``ffe.notify``)."""

from __future__ import annotations

import logging

from ffe_core.domain.approvals import Approval
from ffe_core.ports.notify import EventKind, Notification

LOGGER_NAME = "ffe.notify"

_LEVELS: dict[EventKind, int] = {
    EventKind.ERROR: logging.ERROR,
    EventKind.KILL_SWITCH: logging.CRITICAL,
    EventKind.RISK_REJECTION: logging.WARNING,
    EventKind.BUDGET: logging.WARNING,
}


class LogNotifier:
    """Logs every notification; errors and kill switches at a level that alerting picks up."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger(LOGGER_NAME)

    async def notify(self, event: Notification) -> None:
        details = " ".join(f"{k}={v}" for k, v in event.fields.items())
        self._log.log(
            _LEVELS.get(event.kind, logging.INFO),
            "[%s] %s%s%s",
            event.kind.value,
            event.title,
            f" — {event.body}" if event.body else "",
            f" ({details})" if details else "",
            extra={"event_kind": event.kind.value, "event_fields": dict(event.fields)},
        )


class LogApprovalChannel:
    """Logs a pending approval; a person resolves it through the API or the CLI."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger(LOGGER_NAME)

    async def request_approval(self, approval: Approval) -> Approval:
        self._log.warning(
            "approval %s pending for %s (%s); expires %s — approve or reject it via the API or CLI",
            approval.id,
            approval.instrument,
            approval.summary or "no summary",
            approval.expires_at.isoformat(),
            extra={"approval_id": approval.id, "decision_id": approval.decision_id},
        )
        return approval

    async def show_resolution(self, approval: Approval) -> None:
        self._log.info(
            "approval %s is %s%s",
            approval.id,
            approval.status.value,
            f" by {approval.decided_by}" if approval.decided_by else "",
            extra={"approval_id": approval.id, "approval_status": approval.status.value},
        )
