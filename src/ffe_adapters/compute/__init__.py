"""Distributed compute backends for parameter searches (optional extras)."""
