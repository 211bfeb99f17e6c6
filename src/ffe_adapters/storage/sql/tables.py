"""Table definitions. Domain objects are stored as JSON payloads plus the columns queries need."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DecimalString(TypeDecorator[Decimal]):
    """Exact decimals stored as text (SQLite has no exact numeric type)."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


Payload = JSON().with_variant(JSON(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DecisionRow(Base):
    __tablename__ = "decisions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)
    outcomes_complete: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # scored at every configured horizon: outcome scoring looks no more (see 0008)
    __table_args__ = (
        Index("ix_decisions_created", "created_at", "id"),
        Index("ix_decisions_instrument_created", "instrument", "created_at"),
        Index("ix_decisions_open", "outcomes_complete", "created_at", "id"),
    )


class VoteRow(Base):
    __tablename__ = "votes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[float] = mapped_column(Float)
    abstained: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float] = mapped_column(Float)
    cost_usd: Mapped[float] = mapped_column(Float)


class _OrderColumns:
    """The columns of an order book (the ledger's and the simulated venue's)."""

    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    instrument: Mapped[str] = mapped_column(String(32), index=True)
    side: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24), index=True)
    quantity: Mapped[Decimal] = mapped_column(DecimalString())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class _FillColumns:
    fill_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)
    instrument: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class OrderRow(_OrderColumns, Base):
    """The ledger: every order ffe sent, whatever the venue."""

    __tablename__ = "orders"
    # the listings' order: the newest page and a day's orders are read by it (see 0009)
    __table_args__ = (Index("ix_orders_created", "created_at", "client_order_id"),)


class FillRow(_FillColumns, Base):
    """The ledger: every fill any venue reported."""

    __tablename__ = "fills"


class VenueOrderRow(_OrderColumns, Base):
    """The simulated venue's own order book (the paper broker)."""

    __tablename__ = "venue_orders"
    __table_args__ = (Index("ix_venue_orders_created", "created_at", "client_order_id"),)


class VenueFillRow(_FillColumns, Base):
    """The simulated venue's own executions (the paper broker), each with the quote it met
    (NULL for a fill on a bar)."""

    __tablename__ = "venue_fills"
    quote: Mapped[dict[str, Any] | None] = mapped_column(Payload, nullable=True)


class AccountRow(Base):
    __tablename__ = "accounts"
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cash: Mapped[Decimal] = mapped_column(DecimalString())
    currency: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PositionRow(Base):
    __tablename__ = "positions"
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    instrument: Mapped[str] = mapped_column(String(32), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(DecimalString())
    average_price: Mapped[Decimal] = mapped_column(DecimalString())
    realized_pnl: Mapped[Decimal] = mapped_column(DecimalString())


class ProviderStatsRow(Base):
    __tablename__ = "provider_stats"
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class AgentRunRow(Base):
    __tablename__ = "agent_runs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class AgentCycleRow(Base):
    __tablename__ = "agent_cycles"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    instrument: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class ApprovalRow(Base):
    __tablename__ = "approvals"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class OutcomeRow(Base):
    """A decision scored at one horizon; ``payload`` also carries the weight moves it caused."""

    __tablename__ = "decision_outcomes"
    decision_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    horizon: Mapped[str] = mapped_column(String(16), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime())
    realized_return: Mapped[float | None] = mapped_column(Float, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)
    __table_args__ = (
        Index("ix_decision_outcomes_instrument_due", "instrument", "due_at"),
        Index("ix_decision_outcomes_horizon_due", "horizon", "due_at"),
    )


class LeaderLeaseRow(Base):
    """A named leader lease (see ``lease.py``); times are Unix seconds on the database's clock."""

    __tablename__ = "leader_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    token: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)
    acquired_at: Mapped[float] = mapped_column(Float)


class StateRow(Base):
    __tablename__ = "service_state"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class ProviderCallRow(Base):
    """The cost ledger: one provider call (or budget refusal)."""

    __tablename__ = "provider_calls"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    tokens_in: Mapped[int] = mapped_column(BigInteger)
    tokens_out: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)
    __table_args__ = (Index("ix_provider_calls_provider_at", "provider", "at"),)


class DecisionRecordRow(Base):
    """A decision's flight record (no foreign key: a record never blocks a decision's removal)."""

    __tablename__ = "decision_records"
    decision_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    snapshot_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(Payload)


class ContentRow(Base):
    """Content-addressed text (input snapshots, rendered prompts), zlib-compressed."""

    __tablename__ = "flight_contents"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
