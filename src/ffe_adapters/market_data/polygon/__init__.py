"""Polygon.io: aggregates and last quotes/trades for stocks, FX (``C:``) and crypto (``X:``)."""
