"""A nesting limit on JSON request bodies, checked before they are parsed.

The JSON decoder and the validators recurse once per level, so a body nested a few thousand
levels deep ends in ``RecursionError`` (a 500). No body of this API needs more than a handful of
levels: deeper ones are refused with a 400 naming the limit, without being parsed.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

MAX_JSON_DEPTH = 64

# a JSON string (skipped whole, so brackets inside it do not count) or one bracket
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body`` nests arrays and objects more than ``limit`` levels deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class DepthLimitedRequest(Request[Any, Any, Any]):
    """Litestar's request, refusing JSON bodies nested deeper than ``MAX_JSON_DEPTH``."""

    async def json(self) -> Any:
        if too_deep(await self.body()):
            raise ClientException(
                detail=f"request body is nested deeper than {MAX_JSON_DEPTH} levels"
            )
        return await super().json()
