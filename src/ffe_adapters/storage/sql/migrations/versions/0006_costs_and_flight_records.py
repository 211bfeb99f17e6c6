"""the cost ledger (provider calls) and the decision flight recorder

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ffe_adapters.storage.sql.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_calls",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=True),
        sa.Column("at", ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_calls")),
    )
    with op.batch_alter_table("provider_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_calls_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_provider_calls_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index("ix_provider_calls_provider_at", ["provider", "at"], unique=False)
    op.create_table(
        "decision_records",
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column(
            "decided_at", ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("snapshot_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decision_records")),
    )
    with op.batch_alter_table("decision_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decision_records_decided_at"), ["decided_at"], unique=False
        )
    op.create_table(
        "flight_contents",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_flight_contents")),
    )


def downgrade() -> None:
    op.drop_table("flight_contents")
    op.drop_table("decision_records")
    op.drop_table("provider_calls")
