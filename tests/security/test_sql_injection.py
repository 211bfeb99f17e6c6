"""SQL injection in every query and path parameter of every GET endpoint is harmless.

The parameters come from the app's own OpenAPI document, so a new filter is attacked without
editing this file. ``tests/api/test_validation.py`` covers three filters of two lists; this
sweeps them all. Harmless means: no 5xx, no row returned that the filter should not match, and
afterwards every table and row count is unchanged and a known decision is still there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import api_settings, serving

Client = AsyncTestClient[Litestar]
pytestmark = pytest.mark.asyncio(loop_scope="module")

PAYLOADS = [
    "' OR '1'='1",
    "BTC-USD'; DROP TABLE decisions; --",
    '" OR 1=1 --',
    "%' UNION SELECT id, id, id FROM orders --",
    "1; DELETE FROM fills",
    "') OR ('a'='a",
    "\\x00'--",
    "BTC-USD' AND sqlite_version() > '0",
    "%",
    "_",
]


class Api:
    def __init__(self, client: Client, db: Path, decision_id: str) -> None:
        self.client, self.db, self.decision_id = client, db, decision_id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    directory = tmp_path_factory.mktemp("injection")
    async with serving(api_settings(directory)) as (client, _):
        response = await client.post("/api/v1/decisions", json={"instrument": "BTC-USD"})
        assert response.status_code == 201
        yield Api(client, directory / "api.db", response.json()["id"])


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def get_operations(schema: dict[str, Any]) -> list[tuple[str, list[str], list[str]]]:
    """(path template, query parameter names, path parameter names) of every GET operation."""
    found = []
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        params = operation.get("parameters", [])
        query = [p["name"] for p in params if p["in"] == "query"]
        in_path = [p["name"] for p in params if p["in"] == "path"]
        found.append((path, query, in_path))
    return found


def fill(path: str, names: list[str], value: str) -> str:
    for name in names:
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


async def test_every_get_parameter_resists_injection(api: Api) -> None:
    schema = (await api.client.get("/schema/openapi.json")).json()
    operations = get_operations(schema)
    with_params = [op for op in operations if op[1] or op[2]]
    assert len(with_params) >= 5, operations  # the lists and detail routes were found
    assert any("instrument" in q for _, q, _ in with_params)
    before = table_counts(api.db)
    assert before.get("decisions", 0) >= 1, before
    tried = 0
    for path, query, in_path in with_params:
        for payload in PAYLOADS:
            url = fill(path, in_path, payload) if in_path else path
            targets = [{name: payload} for name in query] or [{}]
            for params in targets:
                response = await api.client.get(url, params=params)
                tried += 1
                assert response.status_code < 500, (url, params, response.text)
                body = (
                    response.json() if "json" in response.headers.get("content-type", "") else None
                )
                if response.status_code == 200 and isinstance(body, dict) and params:
                    name = next(iter(params))
                    if name in ("instrument", "status", "action", "provider") and "items" in body:
                        assert body["items"] == [], (url, params, body)  # matched nothing
    assert tried >= 50
    assert table_counts(api.db) == before
    listed = await api.client.get("/api/v1/decisions", params={"limit": 200})
    assert api.decision_id in [d["id"] for d in listed.json()["items"]]
    assert (await api.client.get(f"/api/v1/decisions/{api.decision_id}")).status_code == 200
