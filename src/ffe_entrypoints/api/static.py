"""Serving the built dashboard at ``/``, with a fallback to ``index.html`` for client routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import get
from litestar.response import File
from litestar.static_files import create_static_files_router

from ffe_entrypoints.api.auth import PUBLIC_OPT

CLIENT_ROUTES = ("agent-control", "analytics", "optimization", "decisions/{decision_id:str}")


def find_dist(configured: str | None) -> Path | None:
    """The dashboard build: configured, ``./frontend/dist``, or next to the source checkout."""
    candidates = [Path(configured)] if configured else []
    candidates += [
        Path.cwd() / "frontend" / "dist",
        Path(__file__).resolve().parents[3] / "frontend" / "dist",
    ]
    return next((p for p in candidates if (p / "index.html").is_file()), None)


def dashboard_routes(dist: Path) -> list[Any]:
    index = dist / "index.html"

    @get(
        [f"/{r}" for r in CLIENT_ROUTES],
        opt={PUBLIC_OPT: True},
        include_in_schema=False,
        sync_to_thread=False,
    )
    def spa_fallback(decision_id: str | None = None) -> File:  # the id is for the client
        return File(index, content_disposition_type="inline", media_type="text/html")

    assets = create_static_files_router(
        path="/",
        directories=[dist],
        html_mode=True,
        opt={PUBLIC_OPT: True},
        include_in_schema=False,
    )
    return [spa_fallback, assets]
