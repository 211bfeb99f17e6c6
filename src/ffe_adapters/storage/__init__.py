"""Storage adapters: SQL (SQLite / PostgreSQL via SQLAlchemy) and an in-memory one for tests."""
