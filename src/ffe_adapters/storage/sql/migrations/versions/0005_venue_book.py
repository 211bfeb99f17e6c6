"""the simulated venue's own order book, apart from the ledger

Until now the paper broker wrote its venue state into ``orders``/``fills``, which were also the
ledger. The ledger now belongs to the execution gate (every venue); the paper venue keeps its
book in ``venue_orders``/``venue_fills``. Existing rows are copied, so a paper account carries on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 20:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ffe_adapters.storage.sql.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "venue_fills",
        sa.Column("fill_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("ts", ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("fill_id", name=op.f("pk_venue_fills")),
    )
    with op.batch_alter_table("venue_fills", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_venue_fills_client_order_id"), ["client_order_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_venue_fills_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_venue_fills_ts"), ["ts"], unique=False)
    op.create_table(
        "venue_orders",
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=True),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column(
            "quantity", ffe_adapters.storage.sql.tables.DecimalString(length=64), nullable=False
        ),
        sa.Column(
            "created_at", ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("payload", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name=op.f("pk_venue_orders")),
    )
    with op.batch_alter_table("venue_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_venue_orders_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_venue_orders_instrument"), ["instrument"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_venue_orders_status"), ["status"], unique=False)
    op.execute(
        "INSERT INTO venue_orders (client_order_id, decision_id, instrument, side, status, "
        "quantity, created_at, updated_at, payload) SELECT client_order_id, decision_id, "
        "instrument, side, status, quantity, created_at, updated_at, payload FROM orders"
    )
    op.execute(
        "INSERT INTO venue_fills (fill_id, client_order_id, instrument, ts, seq, payload) "
        "SELECT fill_id, client_order_id, instrument, ts, seq, payload FROM fills"
    )


def downgrade() -> None:
    op.drop_table("venue_orders")
    op.drop_table("venue_fills")
