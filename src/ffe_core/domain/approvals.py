"""Human approval of a decision before it is executed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import new_id, utcnow
from ffe_core.domain.errors import InvalidTransition
from ffe_core.domain.market import UtcDatetime


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Approval(BaseModel):
    """A pending or resolved request for a person to approve one decision."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    decision_id: str
    instrument: str
    summary: str = ""
    status: ApprovalStatus = ApprovalStatus.PENDING
    created_at: UtcDatetime = Field(default_factory=utcnow)
    expires_at: UtcDatetime
    decided_by: str | None = None
    decided_at: UtcDatetime | None = None
    channel_ref: str | None = None  # e.g. the Telegram chat/message that shows it

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

    def expire(self) -> Approval:
        return self.model_copy(update={"status": ApprovalStatus.EXPIRED})
