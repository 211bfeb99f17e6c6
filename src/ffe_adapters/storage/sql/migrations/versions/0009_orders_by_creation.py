"""order books indexed in their listing order, so a page or a day of orders is read by index

``GET /orders`` reads the newest orders and the parity gauge a day's orders, both in the
listing's order ``(created_at, client_order_id)``, which no index covered: each read sorted
the whole table (SQLite: a scan and a temporary B-tree; PostgreSQL: a sequential scan and a
top-N sort), a cost that grew with the history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 00:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "orders": "ix_orders_created",
    "venue_orders": "ix_venue_orders_created",
}


def upgrade() -> None:
    for table, name in INDEXES.items():
        op.create_index(name, table, ["created_at", "client_order_id"], unique=False)


def downgrade() -> None:
    for table, name in INDEXES.items():
        op.drop_index(name, table_name=table)
