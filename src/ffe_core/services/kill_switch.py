"""The kill switch shared through storage by every process on it (API server, CLI, a standby).

The risk manager keeps its state in memory; this keeps it in storage too, so that a reset made in
one process (``ffe agent reset-kill-switch``) reaches a running server, and no process's older view
overwrites a trip. A trip is named by its time and reason and is cleared only by a reset naming it
(``RiskState.resets``): merging two views keeps every trip nobody reset, and every reset.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from ffe_core.ports.control import AUDIT_LOGGER, KillSwitchState
from ffe_core.ports.storage import UnitOfWork, UnitOfWorkFactory
from ffe_core.services.risk import (
    RESETS_KEPT,
    KillSwitch,
    KillSwitchReset,
    RiskManager,
    RiskState,
)

_audit = logging.getLogger(AUDIT_LOGGER)
_EPOCH = datetime.min.replace(tzinfo=UTC)

RISK_STATE_KEY = "risk_manager"
"""The ``state`` document the risk manager's state is stored as."""


def _trip(ks: KillSwitch) -> tuple[datetime | None, str | None]:
    return ks.at, ks.reason


def merge_risk_states(base: RiskState, other: RiskState) -> RiskState:
    """``base`` (its equity, peak and trading day) with the kill switch both views agree on.

    Resets are united; a trip stays in force unless a reset names it; of two trips in force the
    first is reported. When ``base``'s own trip was cleared by a reset it had not seen, its peak is
    rebased on its last equity, as the reset did: drawdown is measured afresh from there.
    """
    if base.last_equity is None:  # a process that has not seen the account yet: the stored figures
        base = base.model_copy(
            update={
                "peak_equity": other.peak_equity,
                "last_equity": other.last_equity,
                "day": other.day,
                "start_of_day_equity": other.start_of_day_equity,
            }
        )
    by_key = {
        (r.tripped_at, r.tripped_reason, r.at, r.by): r for r in (*base.resets, *other.resets)
    }
    resets = tuple(sorted(by_key.values(), key=lambda r: r.at))[-RESETS_KEPT:]
    cleared = {(r.tripped_at, r.tripped_reason) for r in resets}
    views = (base.kill_switch, other.kill_switch)
    in_force = [ks for ks in views if ks.tripped and _trip(ks) not in cleared]
    if in_force:
        kill_switch = min(in_force, key=lambda ks: ks.at or _EPOCH)
    else:
        calm = [ks for ks in views if not ks.tripped]
        calm += [KillSwitch(reset_by=r.by, reset_at=r.at) for r in resets[-1:]]
        kill_switch = max(calm, key=lambda ks: ks.reset_at or _EPOCH)
    update: dict[str, object] = {"kill_switch": kill_switch, "resets": resets}
    if base.kill_switch.tripped and _trip(base.kill_switch) in cleared:
        update["peak_equity"] = base.last_equity
    return base.model_copy(update=update)


class SharedRiskState:
    """The risk manager (``EquityWatch``) with its state kept in storage for every process.

    ``save`` and ``reset`` lock the stored state, read it and write the merge in one unit of work
    (so two writers take turns and neither's write is lost); ``refresh``
    adopts what another process stored (a reset from the CLI, a trip from the leader).
    """

    def __init__(
        self, manager: RiskManager, uow_factory: UnitOfWorkFactory, key: str = RISK_STATE_KEY
    ) -> None:
        """``key``: the ``state`` document the risk manager's state is stored as."""
        self.manager = manager
        self.uow_factory = uow_factory
        self.key = key

    # EquityWatch: the in-memory risk manager ----------------------------------------------------

    def update_equity(self, equity: Decimal, now: datetime) -> bool:
        return self.manager.update_equity(equity, now)

    def kill_switch(self) -> KillSwitchState:
        return self.manager.kill_switch()

    def reset_kill_switch(self, by: str, now: datetime) -> None:
        self.manager.reset_kill_switch(by, now)

    def drawdown(self) -> Decimal:
        return self.manager.state.drawdown

    # storage ------------------------------------------------------------------------------------

    async def load(self) -> None:
        """Restore the stored state as it is (start-up)."""
        async with self.uow_factory() as uow:
            stored = await self._stored(uow)
        if stored is not None:
            self.manager.state = stored

    async def refresh(self) -> KillSwitchState:
        """Adopt a reset or trip another process stored; returns the kill switch now."""
        async with self.uow_factory() as uow:
            stored = await self._stored(uow)
        if stored is not None:
            self.manager.state = merge_risk_states(self.manager.state, stored)
        return self.kill_switch()

    async def save(self) -> None:
        """Store this process's state merged with the stored one (never clearing a stored trip);
        no write when the stored state is that merge already (the agent saves after every pass,
        and between fills and trips the state rarely moves). A write is made under the state's
        lock on the state as stored then, so a reset stored meanwhile is merged, not overwritten."""
        async with self.uow_factory() as uow:
            stored = await self._stored(uow)
            merged = self._merged_with(stored)
            if merged != stored:
                stored = await self._stored(uow, lock=True)
                merged = self._merged_with(stored)
                if merged != stored:
                    await uow.state.put(self.key, merged.model_dump(mode="json"))
                    await uow.commit()
        self.manager.state = merge_risk_states(self.manager.state, merged)

    def _merged_with(self, stored: RiskState | None) -> RiskState:
        mine = self.manager.state
        return mine if stored is None else merge_risk_states(mine, stored)

    async def reset(self, by: str, now: datetime) -> KillSwitchReset | None:
        """Reset the trip in force *as stored* (so a stale view here can neither miss one nor
        clear a newer one); recorded with the state and on the audit log. None if not tripped."""
        async with self.uow_factory() as uow:
            stored = await self._stored(uow, lock=True)
            view = self.manager.state
            current = view if stored is None else merge_risk_states(stored, view)
            if not current.kill_switch.tripped:
                record = None
            else:
                scratch = RiskManager(self.manager.settings, current)
                scratch.reset_kill_switch(by, now)
                record = scratch.state.resets[-1]
                await uow.state.put(self.key, scratch.state.model_dump(mode="json"))
                await uow.commit()
                self.manager.state = merge_risk_states(self.manager.state, scratch.state)
        if record is None:
            if stored is not None:
                self.manager.state = merge_risk_states(self.manager.state, stored)
            return None
        audit_reset(record)
        return record

    async def _stored(self, uow: UnitOfWork, *, lock: bool = False) -> RiskState | None:
        """The stored state; ``lock``: held until ``uow`` ends, so that the merge this unit of
        work writes is not overwritten by, and does not overwrite, another process's (a reset
        racing the agent's save would otherwise be lost)."""
        if lock:
            await uow.state.lock(self.key)
        saved = await uow.state.get(self.key)
        return None if saved is None else RiskState.model_validate(saved)


def audit_reset(record: KillSwitchReset) -> None:
    """The reset on the audit log: who, when, and why the switch had tripped."""
    _audit.warning(
        "kill switch reset by %s at %s (it had tripped at %s: %s)",
        record.by,
        record.at.isoformat(),
        record.tripped_at.isoformat() if record.tripped_at else "unknown time",
        record.tripped_reason or "no reason recorded",
        extra={
            "action": "kill_switch_reset",
            "by": record.by,
            "reset_at": record.at.isoformat(),
            "tripped_at": record.tripped_at.isoformat() if record.tripped_at else None,
            "tripped_reason": record.tripped_reason,
        },
    )
