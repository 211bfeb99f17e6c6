"""Human approval of decisions: when one is needed, its expiry, and idempotent resolution."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from ffe_core.config import ApprovalSettings
from ffe_core.domain.approvals import Approval, ApprovalCard, ApprovalStatus, ExpiryOutcome
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError, NotFoundError
from ffe_core.ports.clock import Clock
from ffe_core.ports.notify import ApprovalChannel
from ffe_core.ports.storage import UnitOfWorkFactory

log = logging.getLogger(__name__)
_PENDING_OR_APPROVED = frozenset({ApprovalStatus.PENDING, ApprovalStatus.APPROVED})


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


def approval_required(settings: ApprovalSettings, notional: Decimal | None) -> bool:
    """Whether ``settings``' policy asks a person before an order of ``notional`` is sent."""
    if settings.policy == "always":
        return True
    if settings.policy == "above_notional":
        return notional is None or notional > settings.notional_threshold
    if settings.policy == "tiered":
        return notional is None or notional >= settings.auto_below_notional
    return False


def approval_window_end(settings: ApprovalSettings, decision: Decision, now: datetime) -> datetime:
    """When an approval asked at ``now`` closes: after ``expiry_seconds``, but never later than
    ``max_age_seconds`` after the decision, so the decision's age when it is approved (the age the
    gate judges) is within ``max_age_seconds`` whenever the approval is inside its window."""
    asked = now + timedelta(seconds=settings.expiry_seconds)
    return min(asked, decision.created_at + timedelta(seconds=settings.max_age_seconds))


def expiry_outcome(settings: ApprovalSettings, notional: Decimal | None) -> ExpiryOutcome:
    """What an unanswered approval of ``notional`` becomes: ``tiered``'s middle tier is a veto
    window (approved on expiry); everything else follows ``approvals.on_expiry``."""
    veto = (
        settings.policy == "tiered"
        and notional is not None
        and settings.auto_below_notional <= notional < settings.approve_above_notional
    )
    return "approve" if veto else settings.on_expiry


class ApprovalConflict(ConflictError):
    """The approval is not pending (any more); ``approval`` is its true state."""

    def __init__(self, approval: Approval) -> None:
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        why = f" ({approval.reason})" if approval.reason else ""
        super().__init__(f"approval {approval.id} is already {approval.status}{by}{why}")
        self.approval = approval


class ApprovalService:
    """Creates, lists and resolves approvals; every status change is a conditional update."""

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
        return approval_required(self.settings, notional)

    async def request(self, decision: Decision, card: ApprovalCard | None = None) -> Approval:
        """Create (once per decision) and present a pending approval.

        One pending approval per instrument and side: a newer decision supersedes the older one,
        so repeated signals never pile up approvals each sized against the same flat book.
        """
        now = self.clock.now()
        size = decision.risk.size if decision.risk else decision.suggested_size
        price = decision.reference_price
        notional = size * price if size is not None and price is not None else None
        approval = Approval(
            decision_id=decision.id,
            instrument=decision.instrument,
            summary=approval_summary(decision),
            created_at=now,
            expires_at=approval_window_end(self.settings, decision, now),
            action=decision.action.value,
            size=size,
            reference_price=price,
            notional=notional,
            card=card,
            on_expiry=expiry_outcome(self.settings, notional),
        )
        async with self.uow_factory() as uow:
            pending = await uow.approvals.list(ApprovalStatus.PENDING)
        existing = [a for a in pending if a.decision_id == decision.id]
        if existing:
            return existing[0]
        for older in pending:
            if older.instrument == decision.instrument and older.action == approval.action:
                await self._move(older, older.supersede(decision.id))
        async with self.uow_factory() as uow:
            try:
                await uow.approvals.add(approval)
            except ConflictError:  # the same decision asked twice at once
                return await self.get_by_decision(decision.id)
            await uow.commit()
        for channel in self.channels:
            try:
                shown = await channel.request_approval(approval)
            except Exception as exc:  # a dead channel must not lose the approval
                log.warning("approval channel %s failed: %s", channel.name, exc)
                continue
            if shown.channel_ref and shown.channel_ref != approval.channel_ref:
                approval = approval.model_copy(update={"channel_ref": shown.channel_ref})
                await self._move(approval, approval, expected=ApprovalStatus.PENDING)
        return approval

    async def still_pending(self, decision: Decision) -> Approval | None:
        """A pending approval on the same instrument and side young enough to be sent
        (``approvals.max_age_seconds``): while one waits, asking again would only replace it
        under the person about to answer. An older one is superseded by the next request."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            pending = await uow.approvals.list(ApprovalStatus.PENDING)
        for a in pending:
            young = (now - a.created_at).total_seconds() < self.settings.max_age_seconds
            same = a.instrument == decision.instrument and a.action == decision.action.value
            if same and young and a.effective_status(now) is ApprovalStatus.PENDING:
                return a
        return None

    async def get_by_decision(self, decision_id: str) -> Approval:
        async with self.uow_factory() as uow:
            found = await uow.approvals.of_decision(decision_id)
        if found is None:
            raise NotFoundError(f"no approval for decision {decision_id!r}")
        return found

    async def _move(
        self, current: Approval, new: Approval, *, expected: ApprovalStatus | None = None
    ) -> bool:
        """One conditional update from ``expected`` (default: ``current``'s stored status)."""
        async with self.uow_factory() as uow:
            moved = await uow.approvals.transition(new, expected or current.status)
            await uow.commit()
        if moved and new.status is not current.status:
            await self._show(new)
        return moved

    async def get(self, approval_id: str) -> Approval:
        return await self._expire_if_due(await self._stored(approval_id))

    async def find(self, status: ApprovalStatus | None = None) -> list[Approval]:
        await self.expire_due()
        async with self.uow_factory() as uow:
            return await uow.approvals.list(status)

    async def expire_due(self) -> list[Approval]:
        async with self.uow_factory() as uow:
            pending = await uow.approvals.list(ApprovalStatus.PENDING)
        return await self._expire(pending)

    async def _expire(self, listed: list[Approval]) -> list[Approval]:
        """End the pending approvals of ``listed`` whose time is up; the ends stored."""
        now = self.clock.now()
        due = [
            a
            for a in listed
            if a.status is ApprovalStatus.PENDING
            and a.effective_status(now) is ApprovalStatus.EXPIRED
        ]
        ended = [(a, self._on_expiry(a)) for a in due]
        return [end for a, end in ended if await self._move(a, end)]

    def _on_expiry(self, approval: Approval) -> Approval:
        """Denied (expired, the default) or, in a veto window, approved by expiry."""
        if approval.on_expiry == "approve":
            return approval.approve_on_expiry()
        return approval.expire()

    async def _expire_if_due(self, approval: Approval) -> Approval:
        if approval.effective_status(self.clock.now()) is ApprovalStatus.EXPIRED and (
            approval.status is ApprovalStatus.PENDING
        ):
            await self._move(approval, self._on_expiry(approval))
            return await self._stored(approval.id)
        return approval

    async def _stored(self, approval_id: str) -> Approval:
        async with self.uow_factory() as uow:
            approval = await uow.approvals.get(approval_id)
        if approval is None:
            raise NotFoundError(f"unknown approval {approval_id!r}")
        return approval

    async def resolve(
        self, approval_id: str, approve: bool, by: str, size: Decimal | None = None
    ) -> Approval:
        """Approve or reject: one conditional update ``pending -> approved|rejected``; approving
        with ``size`` (0 < size <= the sized cap) has the gate send at most that.

        Anything but a pending approval (resolved, expired, superseded, failed, or resolved by
        someone else a moment earlier) raises ApprovalConflict carrying its true state.
        """
        now = self.clock.now()
        target = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        approval = await self._expire_if_due(await self._stored(approval_id))
        if approval.status is not ApprovalStatus.PENDING:
            raise ApprovalConflict(approval)
        resolved = approval.resolve(target, by, now, size)
        if not await self._move(approval, resolved):
            raise ApprovalConflict(await self._stored(approval_id))
        return resolved

    async def settle(self, approval: Approval, refused: str | None, *, expired: bool) -> Approval:
        """After the gate: an approved decision it (or the venue) refused ends expired or failed."""
        if refused is None or approval.status is not ApprovalStatus.APPROVED:
            return approval
        final = approval.expire(refused) if expired else approval.fail(refused)
        await self._move(approval, final)
        return await self._stored(approval.id)

    async def approved(self) -> list[Approval]:
        """Approved approvals, oldest first (the agent sends those not yet in the ledger);
        a veto window that passed unanswered is approved first."""
        async with self.uow_factory() as uow:  # one read, unless one's time is up
            listed = await uow.approvals.list(_PENDING_OR_APPROVED)
        if await self._expire(listed):
            async with self.uow_factory() as uow:
                listed = await uow.approvals.list(ApprovalStatus.APPROVED)
        return [a for a in reversed(listed) if a.status is ApprovalStatus.APPROVED]

    async def _show(self, approval: Approval) -> None:
        for channel in self.channels:
            try:
                await channel.show_resolution(approval)
            except Exception as exc:
                log.warning("approval channel %s could not show resolution: %s", channel.name, exc)
