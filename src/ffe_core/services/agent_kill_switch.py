"""The agent's watch over the drawdown kill switch: equity checked after every pass, a trip
stored at once, a reset made by a person recorded and audited, and a switch changed by another
process (the CLI, another server) adopted."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import KillSwitchState
from ffe_core.ports.metrics import Metrics
from ffe_core.ports.notify import EventKind
from ffe_core.services.agent_reports import Notices, Prices
from ffe_core.services.kill_switch import SharedRiskState, audit_reset
from ffe_core.services.risk import KillSwitchReset

log = logging.getLogger(__name__)


class EquityWatch(Protocol):
    """What the agent needs of the risk manager between decisions: the drawdown kill switch."""

    def update_equity(self, equity: Decimal, now: datetime) -> bool:
        """Record equity; True when this update tripped the kill switch."""
        ...

    def kill_switch(self) -> KillSwitchState: ...

    def reset_kill_switch(self, by: str, now: datetime) -> None:
        """Re-allow entries; drawdown is measured afresh from current equity."""
        ...

    def drawdown(self) -> Decimal:
        """Fall of the last recorded equity from its peak (0..1)."""
        ...


class KillSwitchGuard:
    """Trips, reads and resets the kill switch for the agent; without an equity watch the
    switch never trips."""

    def __init__(
        self,
        broker: Broker,
        clock: Clock,
        metrics: Metrics,
        notices: Notices,
        *,
        watch: EquityWatch | None,
        prices: Prices | None,
        persist: Callable[[], Awaitable[None]],
    ) -> None:
        self.broker = broker
        self.clock = clock
        self.metrics = metrics
        self.notices = notices
        self.watch = watch
        self.prices = prices
        self.persist = persist  # stores an in-memory watch's state after a reset

    def state(self) -> KillSwitchState:
        return self.watch.kill_switch() if self.watch else KillSwitchState()

    async def check(self, portfolio: Portfolio | None = None) -> bool:
        """Mark equity against the drawdown limit; True while the switch is tripped.
        ``portfolio``: the account as just read from the broker (else it is read here)."""
        watch = self.watch
        if watch is None:
            return False
        # tripped: a reset made elsewhere (the CLI, another process) counts from this pass on
        if watch.kill_switch().tripped and (await self.refresh()).tripped:
            return True
        if portfolio is None:
            portfolio = await self.broker.get_portfolio()
        prices = await self.prices(portfolio) if self.prices else {}
        equity = portfolio.equity(prices)
        tripped = watch.update_equity(equity, self.clock.now())
        self.metrics.portfolio(equity, watch.drawdown())
        if tripped:
            state = watch.kill_switch()
            if isinstance(watch, SharedRiskState):
                try:  # stored at once: every process (and a restart) sees the trip
                    await watch.save()
                except Exception as exc:
                    log.warning("could not store the kill switch trip: %s", exc)
            log.warning("kill switch tripped: %s", state.reason)
            await self.notices.send(
                EventKind.KILL_SWITCH, "Kill switch tripped", state.reason or ""
            )
            return True
        return False

    async def reset(self, by: str) -> KillSwitchState:
        """A person re-allows trading after a kill switch: recorded (who, when, why it had
        tripped), audited and persisted at once. With shared state the reset is made against
        the stored switch, so it reaches every process and never clears a trip unseen here."""
        watch, now = self.watch, self.clock.now()
        if isinstance(watch, SharedRiskState):
            record = await watch.reset(by, now)
        elif watch is not None and (before := watch.kill_switch()).tripped:
            watch.reset_kill_switch(by, now)
            record = KillSwitchReset(
                by=by, at=now, tripped_reason=before.reason, tripped_at=before.at
            )
            audit_reset(record)
            await self.persist()
        else:
            record = None
        if record is not None:
            log.warning("kill switch reset by %s (it had tripped: %s)", by, record.tripped_reason)
            await self.notices.send(
                EventKind.KILL_SWITCH,
                "Kill switch reset",
                f"reset by {by}; it had tripped: {record.tripped_reason or 'no reason recorded'}",
            )
        return self.state()

    async def refresh(self) -> KillSwitchState:
        """The kill switch as stored now: adopts a reset or trip another process stored (the
        CLI, another server). A storage error keeps the switch as known here."""
        watch = self.watch
        if isinstance(watch, SharedRiskState):
            was = watch.kill_switch()
            try:
                now = await watch.refresh()
            except Exception as exc:
                log.warning("could not read the stored kill switch: %s", exc)
                return was
            if was.tripped and not now.tripped:
                log.warning("kill switch reset by %s (seen in storage)", now.reset_by)
        return self.state()
