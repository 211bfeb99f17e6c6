"""the quote each of the simulated venue's fills met

The paper broker kept the quote an order filled against only in its process's memory, so a fill
synced after a restart (or by another process on the same storage) had none, and the parity
shadow replayed it on bars. The quote is now part of the venue's fill record; fills recorded
before this revision, and fills on bars, have none (NULL).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("venue_fills", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quote", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("venue_fills", schema=None) as batch_op:
        batch_op.drop_column("quote")
