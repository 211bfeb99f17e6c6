"""Every Decimal the API sends is a JSON string, and the OpenAPI document says so: a generated
client (the dashboard's types) must not expect a number where a string arrives.

Litestar documented a constrained Decimal (``Field(gt=0)``: an order's quantity, a fill's price)
as a ``number``; ``DecimalSchemaPlugin`` documents each as a string with a decimal pattern."""

from __future__ import annotations

import re
import types
from decimal import Decimal
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from litestar import Litestar
from litestar.routes import HTTPRoute
from pydantic import BaseModel

from ffe_core.domain.decisions import Action
from ffe_entrypoints.api.decimal_schema import DECIMAL_PATTERN
from ffe_entrypoints.api.openapi import openapi_document
from tests.api.conftest import api_settings, build_app, serving
from tests.api.test_desk import _trade

REF = "#/components/schemas/"
Schemas = dict[str, dict[str, Any]]


def _models_in(annotation: Any, seen: set[type[BaseModel]]) -> None:
    """Every pydantic model reachable from ``annotation`` (fields, containers, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, seen)
        return
    for arg in get_args(annotation):
        _models_in(arg, seen)


def _is_decimal(annotation: Any) -> bool:
    """``Decimal`` or ``Decimal | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_decimal(a) for a in get_args(annotation) if a is not type(None))
    return annotation is Decimal


def _api_models(app: Litestar) -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            signature = handler.parsed_fn_signature
            _models_in(signature.return_type.annotation, seen)
            if "data" in signature.parameters:  # the request body (the rest are injected)
                _models_in(signature.parameters["data"].annotation, seen)
    return seen


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    members = [m for m in schema.get("oneOf", [schema]) if m.get("type") != "null"]
    assert len(members) == 1, schema
    return members[0]


def test_no_decimal_field_of_an_api_model_is_documented_as_a_number(tmp_path: Path) -> None:
    app, _ = build_app(api_settings(tmp_path))
    schemas: Schemas = openapi_document()["components"]["schemas"]
    checked: list[str] = []
    for model in _api_models(app):
        decimals = [
            f.alias or name for name, f in model.model_fields.items() if _is_decimal(f.annotation)
        ]
        if not decimals:
            continue
        assert model.__name__ in schemas, f"{model.__name__} is not a component of the document"
        properties = schemas[model.__name__]["properties"]
        for name in decimals:
            schema = _not_null(properties[name])
            assert schema["type"] == "string", (model.__name__, name, schema)
            assert schema["pattern"] == DECIMAL_PATTERN, (model.__name__, name, schema)
            checked.append(f"{model.__name__}.{name}")
    # the fields Litestar used to type as numbers are among them
    assert {"Order.quantity", "Order.filled_quantity", "Fill.price", "Fill.commission"} <= set(
        checked
    )
    assert len(checked) > 40


def _check(value: Any, schema: dict[str, Any], schemas: Schemas, at: str, seen: list[str]) -> None:
    """Assert ``value`` has the JSON type ``schema`` documents, recursively; strings against their
    pattern. ``seen`` collects where a decimal was checked."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].removeprefix(REF)]
    if "oneOf" in schema:
        if value is None:
            assert any(m.get("type") == "null" for m in schema["oneOf"]), at
            return
        schema = _not_null(schema)
        if "$ref" in schema:
            schema = schemas[schema["$ref"].removeprefix(REF)]
    kind = schema.get("type")
    if kind == "string":
        assert isinstance(value, str), f"{at}: documented string, got {value!r}"
        if "pattern" in schema:
            assert re.search(schema["pattern"], value), f"{at}: {value!r} !~ {schema['pattern']}"
        if schema.get("pattern") == DECIMAL_PATTERN:
            seen.append(at)
    elif kind in ("number", "integer"):
        assert isinstance(value, int | float) and not isinstance(value, bool), (
            f"{at}: documented {kind}, got {value!r}"
        )
    elif kind == "array":
        assert isinstance(value, list), at
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), schemas, f"{at}[{i}]", seen)
    elif kind == "object" or "properties" in schema:
        assert isinstance(value, dict), at
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], schemas, f"{at}.{key}", seen)
            elif isinstance(extra, dict):
                _check(item, extra, schemas, f"{at}.{key}", seen)


async def test_every_decimal_in_real_responses_is_a_string_as_documented(tmp_path: Path) -> None:
    document = openapi_document()
    schemas: Schemas = document["components"]["schemas"]
    seen: list[str] = []
    async with serving(api_settings(tmp_path)) as (client, container):
        await _trade(container, Action.BUY, "0.1", "BTC-USD")
        await _trade(container, Action.SELL, "1", "ETH-USD")
        decisions = (await client.get("/api/v1/decisions")).json()["items"]
        routes = [
            "/api/v1/orders",
            "/api/v1/fills",
            "/api/v1/positions",
            "/api/v1/status",
            "/api/v1/decisions",
            f"/api/v1/decisions/{decisions[0]['id']}",
            "/api/v1/instruments",
            "/api/v1/approvals",
            "/api/bot/status",
        ]
        for route in routes:
            response = await client.get(route)
            assert response.status_code == 200, (route, response.text)
            template = route if route in document["paths"] else "/api/v1/decisions/{decision_id}"
            schema = document["paths"][template]["get"]["responses"]["200"]["content"][
                "application/json"
            ]["schema"]
            _check(response.json(), schema, schemas, route, seen)
    fields = {re.sub(r"\[\d+\]", "[]", s) for s in seen}
    for field in (
        "/api/v1/orders.items[].quantity",
        "/api/v1/orders.items[].filled_quantity",
        "/api/v1/fills.items[].price",
        "/api/v1/fills.items[].quantity",
        "/api/v1/fills.items[].commission",
        "/api/v1/positions.items[].quantity",
        "/api/v1/status.equity",
    ):
        assert field in fields, (field, sorted(fields))
