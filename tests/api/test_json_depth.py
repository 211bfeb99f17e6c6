"""JSON bodies nested past the limit are a 400 that says so, never a 500 (RecursionError)."""

from __future__ import annotations

import time

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_entrypoints.api.json_depth import MAX_JSON_DEPTH, too_deep

Client = AsyncTestClient[Litestar]
JSON = {"content-type": "application/json"}


def arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def bodies(depth: int) -> dict[str, dict[str, str]]:
    """Bodies nested ``depth`` deep, whole or inside a field, for each JSON endpoint."""
    return {
        "/api/v1/decisions": {
            "whole": arrays(depth),
            "field": '{"instrument": "BTC-USD", "providers": ' + arrays(depth) + "}",
            "objects": '{"instrument": "BTC-USD", "providers": [' + objects(depth) + "]}",
        },
        "/api/v1/approvals/nope/approve": {
            "whole": objects(depth),
            "field": '{"by": ' + arrays(depth) + "}",
        },
        "/api/v1/approvals/nope/reject": {"field": '{"by": ' + objects(depth) + "}"},
        "/api/v1/backtests": {"field": '{"params": ' + objects(depth) + "}"},
    }


@pytest.mark.parametrize("depth", [1000, 100_000])
async def test_deep_bodies_are_refused_with_400(client: Client, depth: int) -> None:
    for path, cases in bodies(depth).items():
        for case, body in cases.items():
            started = time.monotonic()
            response = await client.post(path, content=body, headers=JSON)
            assert response.status_code == 400, (path, case, response.text)
            assert response.json() == {
                "status_code": 400,
                "detail": f"request body is nested deeper than {MAX_JSON_DEPTH} levels",
            }
            assert time.monotonic() - started < 1.0, (path, case)


async def test_bodies_within_the_limit_are_validated_as_usual(client: Client) -> None:
    shallow = '{"instrument": "BTC-USD", "providers": ' + arrays(10) + "}"
    response = await client.post("/api/v1/decisions", content=shallow, headers=JSON)
    assert response.status_code == 400
    assert "nested deeper" not in response.text
    assert "providers" in response.text
    ok = await client.post("/api/v1/decisions", json={"instrument": "BTC-USD"})
    assert ok.status_code == 201


def test_brackets_inside_strings_do_not_count() -> None:
    text = '"' + "[" * 500 + '\\"{{{' + '"'
    assert not too_deep(("[" + text + "]").encode())
    assert not too_deep(arrays(MAX_JSON_DEPTH).encode())
    assert too_deep(arrays(MAX_JSON_DEPTH + 1).encode())
    assert too_deep(("[" * 70 + text).encode())  # unclosed is still too deep
    assert not too_deep(b"[" + b"[1], " * 10_000 + b"[]]")  # many brackets, shallow
