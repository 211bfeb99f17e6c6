"""Human approval of a decision before it is executed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import new_id, utcnow
from ffe_core.domain.errors import InvalidTransition
from ffe_core.domain.market import UtcDatetime


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"  # nobody answered in time, or it went stale before it could be sent
    SUPERSEDED = "superseded"  # a newer decision on the same instrument and side replaced it
    FAILED = "failed"  # approved, but the execution gate or the venue refused the order


class Approval(BaseModel):
    """A pending or resolved request for a person to approve one decision."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    decision_id: str = Field(min_length=1, max_length=64)
    instrument: str = Field(min_length=1, max_length=32)
    summary: str = ""
    status: ApprovalStatus = ApprovalStatus.PENDING
    created_at: UtcDatetime = Field(default_factory=utcnow)
    expires_at: UtcDatetime
    decided_by: str | None = None
    decided_at: UtcDatetime | None = None
    channel_ref: str | None = None  # e.g. the Telegram chat/message that shows it
    action: str | None = None  # BUY or SELL
    size: Decimal | None = None  # what the risk manager sized at decision time (the cap)
    reference_price: Decimal | None = None
    notional: Decimal | None = None  # size x reference price
    reason: str | None = None  # why it expired, was superseded or failed

    def effective_status(self, now: datetime) -> ApprovalStatus:
        if self.status is ApprovalStatus.PENDING and now >= self.expires_at:
            return ApprovalStatus.EXPIRED
        return self.status

    def resolve(self, status: ApprovalStatus, by: str, now: datetime) -> Approval:
        """Approve or reject; a resolved or expired approval cannot change (callers read its state)."""
        current = self.effective_status(now)
        if current is not ApprovalStatus.PENDING:
            raise InvalidTransition(f"approval {self.id} is already {current}")
        if status not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
            raise InvalidTransition(f"cannot resolve approval to {status}")
        return self.model_copy(update={"status": status, "decided_by": by, "decided_at": now})

    def expire(self, reason: str | None = None) -> Approval:
        return self.model_copy(
            update={"status": ApprovalStatus.EXPIRED, "reason": reason or "nobody answered in time"}
        )

    def supersede(self, by_decision: str) -> Approval:
        return self.model_copy(
            update={
                "status": ApprovalStatus.SUPERSEDED,
                "reason": f"superseded by decision {by_decision}",
            }
        )

    def fail(self, reason: str) -> Approval:
        """An approved decision whose order was refused (by the gate or the venue)."""
        return self.model_copy(update={"status": ApprovalStatus.FAILED, "reason": reason})
