"""Registers the ``openai`` decision provider; the SDK is imported only when it is built."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl


def create(ctx: AdapterContext) -> Any:
    from ffe_adapters.llm.openai.provider import create_provider

    return create_provider(ctx)


@hookimpl
def ffe_decision_providers() -> Mapping[str, Factory]:
    return {"openai": create}
