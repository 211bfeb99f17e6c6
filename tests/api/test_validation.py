"""Bad input is a 4xx that names the field, never a 500; filters cannot inject SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import api_settings, serving
from tests.waiting import wait_until

Client = AsyncTestClient[Litestar]
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """One app for the whole module: these tests only read, or are refused before writing."""
    async with serving(api_settings(tmp_path_factory.mktemp("validation"))) as (shared, _):
        yield shared


INJECTIONS = [
    "' OR '1'='1",
    "BTC-USD'; DROP TABLE decisions; --",
    '" OR 1=1 --',
    "%' UNION SELECT * FROM orders --",
    "\\x00",
]


async def _seed(client: Client) -> str:
    response = await client.post("/api/v1/decisions", json={"instrument": "BTC-USD"})
    assert response.status_code == 201
    decision_id: str = response.json()["id"]
    return decision_id


def names(response: Any, field: str) -> bool:
    """Whether the error body names ``field`` (in the detail or Litestar's ``extra``)."""
    return field in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "instrument"),
        ({"instrument": 42}, "instrument"),
        ({"instrument": ""}, "instrument"),
        ({"instrument": "BTC USD; --"}, "instrument"),
        ({"instrument": "BTC-USD", "providers": "trend"}, "providers"),
        ({"instrument": "BTC-USD", "providers": [1, 2]}, "providers"),
        ({"instrument": "BTC-USD", "providers": ["trend"] * 33}, "providers"),
        ({"instrument": "BTC-USD", "surprise": True}, "surprise"),
        ([1, 2, 3], "dictionary"),
    ],
)
async def test_bad_decision_bodies_are_400_naming_the_field(
    client: Client, body: Any, field: str
) -> None:
    response = await client.post("/api/v1/decisions", json=body)
    assert response.status_code == 400, response.text
    assert names(response, field), response.text


@pytest.mark.parametrize(
    "raw", [b"{", b"not json", b'{"instrument": "BTC-USD"', b"\xff\xfe", b"null", b""]
)
async def test_malformed_json_is_400(client: Client, raw: bytes) -> None:
    response = await client.post(
        "/api/v1/decisions", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 100000}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e400"}, "limit"),
        ({"action": "YOLO"}, "action"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),  # no timezone
        ({"until": "2026-13-45T00:00:00Z"}, "until"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "x" * 500}, "cursor"),
        ({"instrument": "X" * 100}, "instrument"),
    ],
)
async def test_bad_list_filters_are_400_naming_the_field(
    client: Client, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/v1/decisions", params=params)
    assert response.status_code == 400, response.text
    assert names(response, field), response.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/orders", {"status": "FILLED"}, "status"),
        ("/api/v1/orders", {"instrument": "Y" * 40}, "instrument"),
        ("/api/v1/approvals", {"status": "maybe"}, "status"),
    ],
)
async def test_bad_filters_on_other_lists_are_400(
    client: Client, path: str, params: dict[str, Any], field: str
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert names(response, field), response.text


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_sql_injection_in_filters_is_harmless(client: Client, payload: str) -> None:
    before = len((await client.get("/api/v1/decisions", params={"limit": 200})).json()["items"])
    decision_id = await _seed(client)
    for path, params in [
        ("/api/v1/decisions", {"instrument": payload}),
        ("/api/v1/decisions", {"cursor": payload}),
        ("/api/v1/orders", {"instrument": payload}),
    ]:
        response = await client.get(path, params=params)
        assert response.status_code in (200, 400), (path, response.text)
        if response.status_code == 200:
            assert response.json()["items"] == [], (path, payload)
    assert (await client.get(f"/api/v1/decisions/{payload}")).status_code in (404, 400)
    # the table is intact and the decision still there
    listed = (await client.get("/api/v1/decisions", params={"limit": 200})).json()["items"]
    assert decision_id in [d["id"] for d in listed]
    assert len(listed) == before + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "divination"}, "kind"),
        ({"cash": -5}, "cash"),
        ({"cash": "lots"}, "cash"),
        ({"commission": 0.5}, "commission"),
        ({"bars": 10**9}, "bars"),
        ({"params": {"fast": [1, 2]}}, "fast"),
        ({"grid": {"fast": "1,2"}}, "grid.fast"),
        ({"strategy": "astrology"}, "astrology"),
    ],
)
async def test_bad_backtest_requests_are_400_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/backtests", json=body)
    assert response.status_code == 400, response.text
    assert names(response, field), response.text


async def test_oversized_search_grid_is_refused(client: Client) -> None:
    grid = {"fast": list(range(2, 102)), "slow": list(range(110, 210))}  # 10,000 points
    response = await client.post("/api/v1/backtests", json={"kind": "optimize", "grid": grid})
    assert response.status_code == 400, response.text
    assert "grid" in response.json()["detail"]
    listed = (await client.get("/api/v1/backtests")).json()["items"]
    assert all(j["request"]["grid"] != grid for j in listed)


async def test_backtest_of_unknown_instrument_is_404(client: Client) -> None:
    response = await client.post("/api/v1/backtests", json={"instrument": "NOPE-USD"})
    assert response.status_code == 404
    assert "NOPE-USD" in response.json()["detail"]


async def test_backtest_with_nonsense_values_ends_cleanly(client: Client) -> None:
    """Values the schema allows but the strategy cannot use end the job, not the server."""
    response = await client.post(
        "/api/v1/backtests", json={"params": {"fast": -1, "slow": 0}, "bars": 100}
    )
    if response.status_code == 400:
        assert names(response, "fast") or names(response, "slow"), response.text
        return
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    async def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = (await client.get(f"/api/v1/backtests/{job_id}")).json()
        return job if job["status"] in {"done", "failed"} else None

    job = await wait_until(finished, "the backtest job to end")
    if job["status"] == "failed":
        assert job["error"]


async def test_approve_body_with_wrong_types_is_400(client: Client) -> None:
    response = await client.post("/api/v1/approvals/x/approve", json={"by": 42})
    assert response.status_code == 400
    assert names(response, "by")
    long_id = await client.post("/api/v1/approvals/" + "a" * 200 + "/approve")
    assert long_id.status_code in (400, 404)


async def test_wrong_method_and_unknown_route(client: Client) -> None:
    assert (await client.delete("/api/v1/decisions")).status_code == 405
    assert (await client.get("/api/v1/nothing-here")).status_code == 404
