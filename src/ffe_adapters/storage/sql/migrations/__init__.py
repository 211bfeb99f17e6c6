"""Alembic migrations of the SQL storage."""

HEAD = "0009"
"""The newest revision. A start-up on a database already there skips alembic entirely (its
import and environment cost a noticeable part of ``ffe serve``'s start); a test keeps this
equal to the scripts' head."""
