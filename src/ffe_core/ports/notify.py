"""Notifications and approval channels (log, Telegram, ...)."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.approvals import Approval
from ffe_core.domain.decisions import utcnow
from ffe_core.domain.market import UtcDatetime


class EventKind(StrEnum):
    DECISION = "decision"
    FILL = "fill"
    RISK_REJECTION = "risk_rejection"
    KILL_SWITCH = "kill_switch"
    ERROR = "error"
    DAILY_SUMMARY = "daily_summary"
    AGENT = "agent"
    BUDGET = "budget"


class Notification(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, allow_inf_nan=False)

    kind: EventKind
    title: str
    body: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    ts: UtcDatetime = Field(default_factory=utcnow)


@runtime_checkable
class Notifier(Protocol):
    """Delivers notifications to one destination. A failing destination is logged, never raised:
    a notification must not break the agent (tests/contract/test_notifier_contract.py)."""

    name: str

    async def notify(self, event: Notification) -> None: ...


@runtime_checkable
class ApprovalChannel(Protocol):
    """Shows a pending approval to a person; the answer comes back through the approval service."""

    name: str

    async def request_approval(self, approval: Approval) -> Approval:
        """Present it; may return it with ``channel_ref`` set so the message can be edited later."""
        ...

    async def show_resolution(self, approval: Approval) -> None: ...
