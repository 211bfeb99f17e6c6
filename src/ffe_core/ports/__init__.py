"""Ports: the async Protocols every adapter implements. The core depends only on these."""
