"""What the agent reports about the account: start-up reconciliation, the daily summary, and
:class:`Notices`, the one way the agent's collaborators tell a person what happened."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from ffe_core.config import Settings
from ffe_core.domain.decisions import utcnow
from ffe_core.domain.parity import ParityReport
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock
from ffe_core.ports.notify import EventKind, Notification, Notifier
from ffe_core.ports.storage import UnitOfWorkFactory

log = logging.getLogger(__name__)

POSITIONS_KEY = "agent_positions"
"""Service-state key of the broker positions ffe last saw (start-up reconciliation)."""

Prices = Callable[[Portfolio], Awaitable[dict[str, Decimal]]]
ParityOf = Callable[[date], Awaitable[ParityReport]]
"""A day's live / backtest parity (``ParityService.report``)."""


def _positions(portfolio: Portfolio) -> dict[str, str]:
    return {s: str(p.quantity) for s, p in portfolio.positions.items() if not p.is_flat}


class SeenPositions:
    """The broker positions (and cash) ffe last saw, kept under :data:`POSITIONS_KEY` for the
    start-up reconciliation. The agent looks every pass but writes only when they changed
    since what it last wrote or read: the running agent, which holds the lease, is the key's
    only writer."""

    def __init__(self, broker: Broker, uow_factory: UnitOfWorkFactory) -> None:
        self.broker = broker
        self.uow_factory = uow_factory
        self._stored: dict[str, object] | None = None  # as stored now, when known

    async def remember(self, portfolio: Portfolio | None = None) -> dict[str, str]:
        """Store the broker's current positions unless stored already; returns them.
        ``portfolio``: the account as just read from the broker (else it is read here)."""
        if portfolio is None:
            portfolio = await self.broker.get_portfolio()
        now = _positions(portfolio)
        seen: dict[str, object] = {"positions": now, "cash": str(portfolio.cash)}
        if seen != self._stored:
            async with self.uow_factory() as uow:
                await uow.state.put(POSITIONS_KEY, seen)
                await uow.commit()
            self._stored = seen
        return now

    async def reconcile(self) -> tuple[dict[str, tuple[str, str]], bool]:
        """Differences ``{symbol: (ffe saw, broker has)}`` and whether a previous view existed.

        A difference means the account changed outside ffe (a manual trade, a venue-side stop,
        a fill while ffe was down). The broker's view is then taken as the truth and saved.
        """
        async with self.uow_factory() as uow:
            saved = await uow.state.get(POSITIONS_KEY)
        self._stored = saved
        now = await self.remember()
        before: dict[str, str] = dict(saved.get("positions", {})) if saved else {}
        diffs = {
            s: (before.get(s, "0"), now.get(s, "0"))
            for s in sorted(set(before) | set(now))
            if Decimal(before.get(s, "0")) != Decimal(now.get(s, "0"))
        }
        return diffs, saved is not None


async def summarize_day(
    settings: Settings,
    broker: Broker,
    uow_factory: UnitOfWorkFactory,
    today: date,
    prices: Prices | None,
) -> tuple[str, str, dict[str, str]]:
    """Title, body and fields of the daily summary: equity, P&L, positions, today's trades."""
    portfolio = await broker.get_portfolio()
    marks = await prices(portfolio) if prices else {}
    equity = portfolio.equity(marks)
    async with uow_factory() as uow:
        fills = await uow.fills.list()
    positions = _positions(portfolio)
    body = ", ".join(f"{s} {q}" for s, q in sorted(positions.items())) or "flat"
    fields = {
        "equity": f"{equity:,.2f}",
        "pnl": f"{equity - settings.trading.initial_cash:+,.2f}",
        "trades": str(sum(1 for f in fills if f.ts.date() == today)),
        "mode": settings.trading.mode.value,
    }
    return f"Daily summary {today.isoformat()}", body, fields


REPEAT_QUIET = timedelta(hours=1)
"""A notice repeating one already sent (same ``repeat`` key) within this long is counted, not
sent; the next one sent after it says how many were held back."""


class Notices:
    """Sends the agent's notifications; a failing notifier is logged, never stops trading.

    Notices given a ``repeat`` key (a risk rejection: the instrument, the action and the limit
    that refused it) are sent once per :data:`REPEAT_QUIET`: an agent refused by the same limit
    every cycle would otherwise write one warning (and one Telegram message) per cycle. Every
    rejection stays in the agent's journal; the next notice sent says how many were held back.
    """

    def __init__(
        self, notifier: Notifier | None = None, now: Callable[[], datetime] = utcnow
    ) -> None:
        self.notifier = notifier
        self._now = now
        self._sent: dict[str, tuple[datetime, int]] = {}  # repeat key -> (sent at, held back)

    async def send(
        self,
        kind: EventKind,
        title: str,
        body: str = "",
        fields: dict[str, str] | None = None,
        *,
        repeat: str | None = None,
    ) -> None:
        if self.notifier is None:
            return
        now = self._now()
        if repeat is not None:
            sent_at, held = self._sent.get(repeat, (None, 0))
            if sent_at is not None and now - sent_at < REPEAT_QUIET:
                self._sent[repeat] = (sent_at, held + 1)
                log.debug("%s (held back: sent at %s)", title, sent_at.isoformat())
                return
            if held:
                body = f"{body} ({held} more like it since {sent_at:%H:%M} UTC)".strip()
            self._sent[repeat] = (now, 0)
        try:
            await self.notifier.notify(
                Notification(kind=kind, title=title, body=body, fields=fields or {}, ts=now)
            )
        except Exception as exc:  # notifications never stop trading
            log.warning("notifier failed: %s", exc)


def rejection_key(instrument: str, action: str, reason: str) -> str:
    """The repeat key of a risk rejection: what refused it, without the figures (equity, sizes)
    that change from one cycle to the next."""
    return f"risk:{instrument}:{action}:{_FIGURES.sub('#', reason)}"


_FIGURES = re.compile(r"[-+]?[\d][\d,]*(?:\.\d+)?")


class DailySummary:
    """Once per UTC day (first pass of the day): equity, P&L, positions and trades so far."""

    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        notices: Notices,
        prices: Prices | None = None,
        *,
        parity: ParityOf | None = None,
    ) -> None:
        self.parity = parity  # the previous day's parity goes in the summary
        self.settings = settings
        self.broker = broker
        self.uow_factory = uow_factory
        self.clock = clock
        self.notices = notices
        self.prices = prices
        self._day: date | None = None  # the UTC day whose summary was last sent

    async def send_once_a_day(self) -> bool:
        """Send today's summary unless it was sent; True when sent now."""
        today = self.clock.now().date()
        if self._day == today:
            return False
        self._day = today
        title, body, fields = await summarize_day(
            self.settings, self.broker, self.uow_factory, today, self.prices
        )
        if self.parity is not None:
            try:
                parity = await self.parity(today - timedelta(days=1))
            except Exception as exc:  # the summary goes out without it
                log.warning("parity of the previous day: %s", exc)
            else:
                score = "n/a" if parity.score is None else f"{parity.score:.3f}"
                fields["parity"] = f"{score} ({parity.judged} fills judged)"
        await self.notices.send(EventKind.DAILY_SUMMARY, title, body, fields)
        return True
