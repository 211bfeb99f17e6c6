"""Alembic migrations of the SQL storage."""

HEAD = "0008"
"""The newest revision. A start-up on a database already there skips alembic entirely (its
import and environment cost a noticeable part of ``ffe serve``'s start); a test keeps this
equal to the scripts' head."""
