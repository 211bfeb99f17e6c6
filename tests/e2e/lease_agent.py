"""One agent process of the multi-instance test: stand by for the leader lease, then trade.

Run as ``python tests/e2e/lease_agent.py NAME`` with ``FFE_STORAGE__URL`` and
``FFE_STORAGE__SCHEMA_NAME`` (and ``FFE_AGENT__*``) in the environment; the schema must already be
migrated and hold the ``e2e_orders`` / ``e2e_events`` tables (:func:`create_e2e_tables`).

The real container and ``TradingAgent`` run with a ``SqlLeaderLease``; only the decision service
(always BUY, fresh decision id) and the broker (records each order into ``e2e_orders`` with the
sender and its lease token, no uniqueness constraint so duplicates would show) are fakes.
``E2E_PAUSE_DIR/leader.pause`` makes the next decision of whichever process leads then block the
whole process, like a stop-the-world pause right before acting: that process claims the file,
writes its lease token to ``NAME.frozen`` and stays frozen until ``NAME.resume`` appears (the test
creates it once another process leads, so the pause never depends on how fast that happens).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ffe_adapters.storage.sql.lease import SqlLeaderLease
from ffe_core.config import Settings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import ConflictError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.orders import Fill, Order, OrderStatus, Side
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import VenueKind
from ffe_core.ports.lease import LeaseGrant
from ffe_core.services.context import build_context

NOW_SQL = {
    "postgresql": "extract(epoch from clock_timestamp())::float8",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}


async def create_e2e_tables(engine: AsyncEngine) -> None:
    """Tables the fakes record into (no unique constraints: duplicates must stay visible)."""
    pk = (
        "id BIGSERIAL PRIMARY KEY"
        if engine.dialect.name == "postgresql"
        else "id INTEGER PRIMARY KEY AUTOINCREMENT"
    )
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS e2e_orders ({pk}, client_order_id VARCHAR(64) "
                "NOT NULL, sender VARCHAR(128) NOT NULL, token INTEGER NOT NULL, "
                "submitted_at DOUBLE PRECISION NOT NULL)"
            )
        )
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS e2e_events ({pk}, sender VARCHAR(128) NOT NULL, "
                "kind VARCHAR(32) NOT NULL, token INTEGER NOT NULL, at DOUBLE PRECISION NOT NULL)"
            )
        )


class RecordingLease(SqlLeaderLease):
    """The real lease, remembering the token it was last granted (what this process believes)."""

    token = -1
    acquired_at = 0.0  # database time of the last grant

    async def acquire(self) -> LeaseGrant | None:
        grant = await super().acquire()
        if grant is not None:
            self.token, self.acquired_at = grant.token, grant.expires_at - self.ttl_seconds
        return grant


class AlwaysBuy:
    """The decision service's surface the agent uses: a fresh BUY each time."""

    def __init__(
        self,
        settings: Settings,
        pause_dir: Path | None = None,
        name: str = "",
        lease: RecordingLease | None = None,
    ) -> None:
        self.settings = settings
        self.pause_dir = pause_dir
        self.name = name
        self.lease = lease

    risk = None  # no risk check: the gate sends the decision's own size

    def instrument(self, symbol: str) -> Instrument:
        found = self.settings.instrument(symbol)
        assert found is not None
        return found

    async def context_for(
        self, instrument: Instrument, portfolio: Portfolio | None = None
    ) -> DecisionContext:
        """The market at a flat 100 (what the execution gate re-checks against)."""
        now = datetime.now(UTC)
        bar = Bar(ts=now - timedelta(minutes=1), open=100, high=100, low=100, close=100)
        return build_context(instrument, [bar], now, portfolio or Portfolio(cash=Decimal(10**6)))

    async def decide(self, symbol: str, *, persist: bool = True) -> Decision:
        """``persist`` is ignored: the agent asks for unstored decisions and stores them with
        its journal; this fake stores nothing either way."""
        await asyncio.sleep(0.02)
        if self._claim_pause():
            self._freeze()
        return Decision(
            instrument=symbol,
            action=Action.BUY,
            confidence=0.9,
            suggested_size=Decimal("1"),
            reference_price=Decimal(100),
            reasoning="e2e",
        )

    def _claim_pause(self) -> bool:
        """Take ``leader.pause`` if it is there (unlink: only one process can win it)."""
        if self.pause_dir is None:
            return False
        try:
            (self.pause_dir / "leader.pause").unlink()
        except FileNotFoundError:
            return False
        return True

    def _freeze(self) -> None:
        """Say which token we hold, then block the loop (renewal too) until told to resume."""
        assert self.pause_dir is not None and self.lease is not None
        written = self.pause_dir / f"{self.name}.frozen.tmp"
        written.write_text(str(self.lease.token))
        written.rename(self.pause_dir / f"{self.name}.frozen")  # the test reads it whole
        resume = self.pause_dir / f"{self.name}.resume"
        while not resume.exists():
            time.sleep(0.05)  # a stop-the-world pause, on purpose (sync, blocks the loop)


def filled(order: Order) -> Order:
    """Market orders fill at once here, so the agent never waits on a working order."""
    return order.model_copy(
        update={
            "status": OrderStatus.FILLED,
            "filled_quantity": order.quantity,
            "average_fill_price": Decimal(100),
        }
    )


class RecordingBroker:
    """Accepts every order and records it in ``e2e_orders`` (sender, token, database time)."""

    name = "recording"
    venue = VenueKind.SIMULATED

    def __init__(self, engine: AsyncEngine, sender: str, lease: RecordingLease) -> None:
        self.engine = engine
        self.sender = sender
        self.lease = lease
        self._now = NOW_SQL[engine.dialect.name]

    async def submit_order(self, order: Order) -> Order:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO e2e_orders (client_order_id, sender, token, submitted_at) "
                    f"VALUES (:coid, :sender, :token, {self._now})"
                ),
                {"coid": order.client_order_id, "sender": self.sender, "token": self.lease.token},
            )
        return filled(order)

    async def get_order(self, client_order_id: str) -> Order | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT client_order_id FROM e2e_orders WHERE client_order_id = :c"),
                    {"c": client_order_id},
                )
            ).first()
        if row is None:
            return None
        return filled(
            Order(
                client_order_id=client_order_id,
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal("1"),
            )
        )

    async def cancel_order(self, client_order_id: str) -> Order:
        found = await self.get_order(client_order_id)
        assert found is not None
        return found

    async def get_portfolio(self) -> Portfolio:
        return Portfolio(cash=Decimal(100_000))

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        """One fill at 100 per recorded order (its id derived from the order's)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT client_order_id FROM e2e_orders"))
            ids = [r[0] for r in rows]
        return [
            Fill(
                fill_id=f"rf-{coid}",
                client_order_id=coid,
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal("1"),
                price=Decimal(100),
            )
            for coid in ids
            if client_order_id in (None, coid)
        ]

    async def close(self) -> None:
        pass


async def record_event(
    engine: AsyncEngine, sender: str, kind: str, token: int, at: float | None = None
) -> None:
    """Note a leadership change; ``at`` defaults to the database's time now."""
    at_sql = ":at" if at is not None else NOW_SQL[engine.dialect.name]
    async with engine.begin() as conn:
        await conn.execute(
            text(f"INSERT INTO e2e_events (sender, kind, token, at) VALUES (:s, :k, :t, {at_sql})"),
            {"s": sender, "k": kind, "t": token, "at": at},
        )


def dump_tasks() -> None:
    """SIGUSR1: print where every task of this process is waiting (the test's diagnostics)."""
    for task in asyncio.all_tasks():
        print(f"--- {task.get_name()}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()


async def main(name: str) -> None:
    from dependency_injector import providers

    from ffe_core.services.agent import TradingAgent
    from ffe_entrypoints.container import build_container
    from ffe_entrypoints.lifecycle import shutdown
    from ffe_entrypoints.settings import load_settings

    settings = load_settings(None)
    ttl = float(os.environ.get("E2E_LEASE_TTL", "2"))
    pause_dir = os.environ.get("E2E_PAUSE_DIR")
    container = build_container(settings)
    engine: AsyncEngine = container.storage().engine
    sender = f"{name}:{os.getpid()}"
    lease = RecordingLease(engine, "agent", ttl, holder=sender)
    broker = RecordingBroker(engine, sender, lease)
    decisions: Any = AlwaysBuy(settings, Path(pause_dir) if pause_dir else None, name, lease)
    container.broker.override(providers.Object(broker))
    agent = TradingAgent(
        settings,
        decisions,
        broker,
        container.approval_service(),
        container.uow_factory(),
        container.clock(),
        holder=sender,
        lease=lease,
    )
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump_tasks)
    try:
        while True:
            try:
                run = await agent.acquire()
            except ConflictError:
                await asyncio.sleep(ttl / 8)
                continue
            await record_event(engine, sender, "leader", lease.token, lease.acquired_at)
            try:
                await agent.run(run=run)
            except ConflictError as exc:
                print(f"{sender}: stepped down: {exc}", file=sys.stderr, flush=True)
            await record_event(engine, sender, "stepped_down", lease.token)
    finally:
        await shutdown(container)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
