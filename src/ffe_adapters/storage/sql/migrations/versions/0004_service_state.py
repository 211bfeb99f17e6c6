"""service state documents (risk manager state and the like)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ffe_adapters.storage.sql.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_state",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column(
            "updated_at",
            ffe_adapters.storage.sql.tables.UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_service_state")),
    )


def downgrade() -> None:
    op.drop_table("service_state")
