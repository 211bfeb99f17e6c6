"""decisions scored at every horizon are marked, so outcome scoring stops looking at them

Outcome scoring searched every decision ever made, each pass, for one lacking an outcome at
a horizon (a NOT EXISTS per decision): its cost grew with the history. A decision scored at
every configured horizon is now marked ``outcomes_complete`` and the search covers only the
open ones (index ``ix_decisions_open``). Decisions stored before this revision start open and
are marked by the scoring passes that follow.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcomes_complete", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            "ix_decisions_open", ["outcomes_complete", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_open")
        batch_op.drop_column("outcomes_complete")
