"""Caches behind the ``Cache`` port: in-process (``memory``), Redis (``redis``) and ``none``."""
