"""Alembic environment: runs on the connection ffe hands over (see SqlStorage.migrate)."""

from __future__ import annotations

from alembic import context

from ffe_adapters.storage.sql.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only ffe's own migrate() drives Alembic
    raise RuntimeError("run migrations through 'ffe db upgrade'")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
