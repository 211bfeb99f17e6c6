"""Offline quantitative decision providers: the embedded default, no keys needed."""
