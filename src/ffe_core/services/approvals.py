"""Human approval of decisions: when one is needed, its expiry, and idempotent resolution."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from ffe_core.config import ApprovalSettings
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import NotFoundError
from ffe_core.ports.clock import Clock
from ffe_core.ports.notify import ApprovalChannel
from ffe_core.ports.storage import UnitOfWorkFactory

log = logging.getLogger(__name__)


def approval_summary(decision: Decision) -> str:
    size = decision.risk.size if decision.risk else decision.suggested_size
    parts = [f"{decision.action} {decision.instrument}"]
    if size is not None:
        parts.append(f"size {size}")
    parts.append(f"confidence {decision.confidence:.0%}")
    if decision.stop_loss is not None:
        parts.append(f"SL {decision.stop_loss}")
    if decision.take_profit is not None:
        parts.append(f"TP {decision.take_profit}")
    return ", ".join(parts)


class ApprovalService:
    """Creates, lists and resolves approvals. Resolution is idempotent and never un-expires."""

    def __init__(
        self,
        settings: ApprovalSettings,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        channels: list[ApprovalChannel] | None = None,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.clock = clock
        self.channels = list(channels or [])

    def needs_approval(self, notional: Decimal | None) -> bool:
        if self.settings.policy == "always":
            return True
        if self.settings.policy == "above_notional":
            return notional is None or notional > self.settings.notional_threshold
        return False

    async def request(self, decision: Decision) -> Approval:
        """Create (once per decision) and present a pending approval."""
        now = self.clock.now()
        approval = Approval(
            decision_id=decision.id,
            instrument=decision.instrument,
            summary=approval_summary(decision),
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.expiry_seconds),
        )
        async with self.uow_factory() as uow:
            existing = [a for a in await uow.approvals.list() if a.decision_id == decision.id]
            if existing:
                return existing[0]
            await uow.approvals.add(approval)
            await uow.commit()
        for channel in self.channels:
            try:
                shown = await channel.request_approval(approval)
            except Exception as exc:  # a dead channel must not lose the approval
                log.warning("approval channel %s failed: %s", channel.name, exc)
                continue
            if shown.channel_ref and shown.channel_ref != approval.channel_ref:
                approval = shown
                async with self.uow_factory() as uow:
                    await uow.approvals.update(approval)
                    await uow.commit()
        return approval

    async def get(self, approval_id: str) -> Approval:
        async with self.uow_factory() as uow:
            approval = await uow.approvals.get(approval_id)
        if approval is None:
            raise NotFoundError(f"unknown approval {approval_id!r}")
        return await self._expire_if_due(approval)

    async def find(self, status: ApprovalStatus | None = None) -> list[Approval]:
        await self.expire_due()
        async with self.uow_factory() as uow:
            return await uow.approvals.list(status)

    async def expire_due(self) -> list[Approval]:
        now = self.clock.now()
        async with self.uow_factory() as uow:
            due = [
                a.expire()
                for a in await uow.approvals.list(ApprovalStatus.PENDING)
                if a.effective_status(now) is ApprovalStatus.EXPIRED
            ]
            for a in due:
                await uow.approvals.update(a)
            await uow.commit()
        for a in due:
            await self._show(a)
        return due

    async def _expire_if_due(self, approval: Approval) -> Approval:
        if approval.effective_status(self.clock.now()) is ApprovalStatus.EXPIRED and (
            approval.status is ApprovalStatus.PENDING
        ):
            await self.expire_due()
            return approval.expire()
        return approval

    async def resolve(self, approval_id: str, approve: bool, by: str) -> Approval:
        """Approve or reject. A repeat, a late tap or a tap after expiry returns the true state."""
        now = self.clock.now()
        target = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        async with self.uow_factory() as uow:
            approval = await uow.approvals.get(approval_id)
            if approval is None:
                raise NotFoundError(f"unknown approval {approval_id!r}")
            current = approval.effective_status(now)
            if current is not ApprovalStatus.PENDING:
                if current is ApprovalStatus.EXPIRED and approval.status is ApprovalStatus.PENDING:
                    approval = approval.expire()
                    await uow.approvals.update(approval)
                    await uow.commit()
                return approval
            resolved = approval.resolve(target, by, now)
            await uow.approvals.update(resolved)
            await uow.commit()
        await self._show(resolved)
        return resolved

    async def approved_decision_ids(self) -> list[str]:
        async with self.uow_factory() as uow:
            return [a.decision_id for a in await uow.approvals.list(ApprovalStatus.APPROVED)]

    async def _show(self, approval: Approval) -> None:
        for channel in self.channels:
            try:
                await channel.show_resolution(approval)
            except Exception as exc:
                log.warning("approval channel %s could not show resolution: %s", channel.name, exc)
