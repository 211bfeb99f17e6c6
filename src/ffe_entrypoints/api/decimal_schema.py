"""Decimals in the OpenAPI document as they are on the wire: JSON strings.

Responses are pydantic models, which serialise a ``Decimal`` as a string (``"0.10"``) so no
digit is lost. Litestar documents a plain ``Decimal`` as a string but a constrained one
(``Field(gt=0)``) as a ``number``, so a generated client expected numbers it never received.
This plugin documents every ``Decimal`` field, constrained or not, as a string with
:data:`DECIMAL_PATTERN` (a string cannot carry the bounds; the API still enforces them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.utils.predicates import is_class_and_subclass

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$"
"""What ``str(Decimal)`` gives for a finite value (``"12.50"``, ``"-3"``, ``"1E+2"``, ``"0E-8"``)."""


class DecimalSchemaPlugin(OpenAPISchemaPlugin):
    """Every ``Decimal`` field is ``{type: string, pattern: DECIMAL_PATTERN}``, its default the
    string the API sends (Litestar would write ``Decimal("0")`` as the number ``0``)."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return is_class_and_subclass(value, Decimal)

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        default = field_definition.default
        return Schema(
            type=OpenAPIType.STRING,
            pattern=DECIMAL_PATTERN,
            default=str(default) if isinstance(default, Decimal) else None,
        )
