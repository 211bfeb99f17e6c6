"""Human approval of a decision before it is executed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import new_id, utcnow
from ffe_core.domain.errors import InvalidTransition, ValidationFailed
from ffe_core.domain.market import UtcDatetime


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"  # nobody answered in time, or it went stale before it could be sent
    SUPERSEDED = "superseded"  # a newer decision on the same instrument and side replaced it
    FAILED = "failed"  # approved, but the execution gate or the venue refused the order


ExpiryOutcome = Literal["deny", "approve"]
"""What an approval nobody answered becomes: denied (the default), or approved (a veto window)."""


class ApprovalCard(BaseModel):
    """The risk a person is asked to accept, computed when the approval is requested.

    Exposure is gross (sum of absolute marked position values); VaR is the risk manager's
    one-bar historical VaR at 95 % (None when the book has no observed bars). The expected
    fill is the fill model's price for the side (slippage, and spread on an entry) and its cost
    the commission plus the slippage and spread paid against the reference price.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    side: str
    exposure_before: Decimal
    exposure_after: Decimal
    var_before: Decimal | None = None
    var_after: Decimal | None = None
    agreeing: int = Field(default=0, ge=0)  # counted votes for the decision's action
    voters: int = Field(default=0, ge=0)  # counted (not abstaining) votes
    brier: dict[str, float | None] = Field(default_factory=dict)  # agreeing providers
    brier_window: int = Field(default=0, ge=0)  # over at most this many scored votes each
    expected_price: Decimal | None = None
    expected_cost: Decimal | None = None


class Approval(BaseModel):
    """A pending or resolved request for a person to approve one decision."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

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
    card: ApprovalCard | None = None
    on_expiry: ExpiryOutcome = "deny"
    approved_size: Decimal | None = Field(default=None, gt=0)
    """A smaller size the person chose (½, ¼ or typed); the gate sends at most this."""

    def effective_status(self, now: datetime) -> ApprovalStatus:
        if self.status is ApprovalStatus.PENDING and now >= self.expires_at:
            return ApprovalStatus.EXPIRED
        return self.status

    def resolve(
        self, status: ApprovalStatus, by: str, now: datetime, size: Decimal | None = None
    ) -> Approval:
        """Approve or reject (approve optionally at a smaller ``size``, never above the sized
        cap); a resolved or expired approval cannot change (callers read its state)."""
        current = self.effective_status(now)
        if current is not ApprovalStatus.PENDING:
            raise InvalidTransition(f"approval {self.id} is already {current}")
        if status not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
            raise InvalidTransition(f"cannot resolve approval to {status}")
        update: dict[str, object] = {"status": status, "decided_by": by, "decided_at": now}
        if size is not None:
            if status is not ApprovalStatus.APPROVED:
                raise ValidationFailed("a size is chosen only when approving")
            if size <= 0 or (self.size is not None and size > self.size):
                raise ValidationFailed(
                    f"size {size} must be above 0 and at most the sized {self.size}"
                )
            update["approved_size"] = size
        return self.model_copy(update=update)

    def approve_on_expiry(self) -> Approval:
        """Nobody vetoed within the window: approved, by expiry, with the reason recorded. It
        was approved when its window closed (``expires_at``), however late that is noticed."""
        return self.model_copy(
            update={
                "status": ApprovalStatus.APPROVED,
                "decided_by": "expiry",
                "decided_at": self.expires_at,
                "reason": "nobody vetoed it in time (approved on expiry)",
            }
        )

    def expire(self, reason: str | None = None) -> Approval:
        why = reason or "nobody answered in time"
        return self.model_copy(update={"status": ApprovalStatus.EXPIRED, "reason": why})

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
