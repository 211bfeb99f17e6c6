"""decision outcomes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ffe_adapters.storage.sql.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_outcomes",
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("horizon", sa.String(length=16), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column(
            "due_at", ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "scored_at", ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("realized_return", sa.Float(), nullable=True),
        sa.Column("payload", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_decision_outcomes_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("decision_id", "horizon", name=op.f("pk_decision_outcomes")),
    )
    with op.batch_alter_table("decision_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_decision_outcomes_horizon_due", ["horizon", "due_at"], unique=False
        )
        batch_op.create_index(
            "ix_decision_outcomes_instrument_due", ["instrument", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("decision_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_outcomes_instrument_due")
        batch_op.drop_index("ix_decision_outcomes_horizon_due")

    op.drop_table("decision_outcomes")
