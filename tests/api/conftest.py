"""An API app on SQLite in a temp directory, the paper broker and the embedded defaults."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.config import Settings
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.settings import load_settings
from tests.conftest import PG_URL, SQL_BACKENDS, drop_schema, require_postgres

API_KEY = "test-api-key-0123456789"
Configure = Callable[[Container], None]


def api_settings(
    directory: Path, environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Embedded defaults (no config files), storage in ``directory``; the real environment is
    ignored so a key or DSN set on the machine cannot leak into a test."""
    env = {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{directory / 'api.db'}", **(environ or {})}
    return load_settings(directory, environ=env, overrides=overrides)


def build_app(settings: Settings, configure: Configure | None = None) -> tuple[Litestar, Container]:
    container = build_container(settings)
    if configure is not None:
        configure(container)
    return create_app(container, start_agent=False), container


def client_from(app: Litestar, host: str) -> httpx.AsyncClient:
    """A client whose requests reach ``app`` from the socket address ``host`` (the Litestar test
    client always says "testclient"); use it inside ``serving`` so the lifespan has run."""
    asgi: Any = app  # httpx types the ASGI callable more narrowly than Litestar declares it
    transport = httpx.ASGITransport(app=asgi, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def serving(
    settings: Settings, configure: Configure | None = None
) -> AsyncIterator[tuple[AsyncTestClient[Litestar], Container]]:
    """A started app (lifespan run: migrations, shutdown) and its container."""
    app, container = build_app(settings, configure)
    async with AsyncTestClient(app) as client:
        yield client, container


@asynccontextmanager
async def in_loop(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client on ``app`` run in the test's own loop (lifespan entered here), so concurrent
    requests really are concurrent (``AsyncTestClient`` hands them to its portal one at a time)."""
    asgi: Any = app  # httpx types the ASGI callable more narrowly than Litestar declares it
    async with app.lifespan():
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(params=SQL_BACKENDS)
async def storage_env(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, str]]:
    """The storage settings (environment) of one SQL backend: SQLite in ``tmp_path``, or a fresh
    PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"}
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield {"FFE_STORAGE__URL": PG_URL, "FFE_STORAGE__SCHEMA_NAME": schema}
    finally:
        await drop_schema(schema)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[tuple[AsyncTestClient[Litestar], Container]]:
    async with serving(settings) as pair:
        yield pair


@pytest.fixture
def client(api: tuple[AsyncTestClient[Litestar], Container]) -> AsyncTestClient[Litestar]:
    return api[0]
