"""Hook implementations of the example plugin."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_plugin_example.provider import ContrarianOptions, ContrarianProvider


def build_contrarian(ctx: AdapterContext) -> ContrarianProvider:
    return ContrarianProvider(ContrarianOptions.model_validate(dict(ctx.options)))


@hookimpl
def ffe_decision_providers() -> Mapping[str, Factory]:
    return {"contrarian": build_contrarian}
