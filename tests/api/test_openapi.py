"""The committed OpenAPI document is the one the app serves."""

from __future__ import annotations

from pathlib import Path

import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_entrypoints.api.openapi import REGENERATE, SPEC_PATH, openapi_document, openapi_yaml

COMMITTED = Path(__file__).resolve().parents[2] / "deploy" / "openapi" / "backend-api.yaml"


def test_committed_spec_is_current() -> None:
    generated = openapi_yaml()
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.is_file() else ""
    assert committed == generated, f"deploy/openapi/backend-api.yaml is stale; run: {REGENERATE}"


async def test_served_spec_matches_the_document(client: AsyncTestClient[Litestar]) -> None:
    served = (await client.get(SPEC_PATH)).json()
    assert served == openapi_document()
    assert yaml.safe_load(COMMITTED.read_text(encoding="utf-8")) == served


def test_spec_documents_every_api_route_and_the_key() -> None:
    document = openapi_document()
    paths = document["paths"]
    for path in (
        "/health",
        "/api/v1/decisions",
        "/api/v1/decisions/{decision_id}",
        "/api/v1/status",
        "/api/bot/start",
        "/api/v1/approvals/{approval_id}/approve",
        "/api/v1/backtests/{job_id}",
        "/webhook/telegram",
    ):
        assert path in paths, path
    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["name"], scheme["in"]) == ("apiKey", "X-API-Key", "header")
    assert paths["/api/v1/status"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in paths["/health"]["get"]


ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
CONFLICTS = {
    ("post", "/api/bot/start"),
    ("post", "/api/bot/pause"),
    ("post", "/api/bot/resume"),
    ("post", "/api/v1/approvals/{approval_id}/approve"),
    ("post", "/api/v1/approvals/{approval_id}/reject"),
}


def test_spec_documents_the_error_answers_with_the_error_body() -> None:
    document = openapi_document()
    body = document["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"status_code", "detail"}
    assert set(body["properties"]) == {"status_code", "detail", "extra"}
    protected = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {int(code): r for code, r in responses.items() if int(code) >= 400}
            for code, response in errors.items():
                schema = response["content"]["application/json"]["schema"]
                assert schema == ERROR_BODY, (method, path, code)
            if "security" not in operation:
                continue
            protected += 1
            assert {401, 429} <= set(errors), (method, path)
            if "{" in path:
                assert 404 in errors, (method, path)
            if (method, path) in CONFLICTS:
                assert 409 in errors, (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                assert 400 in errors, (method, path)
    assert protected >= 20
