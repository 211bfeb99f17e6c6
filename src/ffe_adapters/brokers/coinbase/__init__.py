"""Coinbase Advanced Trade through coinbase-advanced-py: broker and candles."""
