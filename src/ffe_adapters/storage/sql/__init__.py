"""SQL storage through SQLAlchemy 2 (async): SQLite by default, PostgreSQL by URL."""
