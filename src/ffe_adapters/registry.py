"""Build the plugin manager and the registry of adapter factories, inside functions only."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from ffe_adapters import hookspecs
from ffe_core.domain.errors import PluginError

BUILTIN_PLUGINS: tuple[str, ...] = (
    "ffe_adapters.storage.sql.plugin",
    "ffe_adapters.cache.plugin",
    "ffe_adapters.notify.log.plugin",
    "ffe_adapters.notify.telegram.plugin",
    "ffe_adapters.market_data.bundled.plugin",
    "ffe_adapters.market_data.synthetic.plugin",
    "ffe_adapters.market_data.files.plugin",
    "ffe_adapters.market_data.alphavantage.plugin",
    "ffe_adapters.market_data.coingecko.plugin",
    "ffe_adapters.market_data.twelvedata.plugin",
    "ffe_adapters.market_data.polygon.plugin",
    "ffe_adapters.brokers.paper.plugin",
    "ffe_adapters.brokers.coinbase.plugin",
    "ffe_adapters.brokers.oanda.plugin",
    "ffe_adapters.quant.plugin",
    "ffe_adapters.llm.anthropic.plugin",
    "ffe_adapters.llm.openai.plugin",
    "ffe_adapters.llm.gemini.plugin",
    "ffe_adapters.llm.ollama.plugin",
    "ffe_adapters.strategies.plugin",
    "ffe_adapters.telemetry.plugin",
    "ffe_adapters.compute.plugin",
)
"""Modules of the adapters that ship with ffe; loaded exactly like third-party plugins."""


@dataclass(frozen=True)
class Registration:
    kind: str
    name: str
    factory: Any
    plugin: str


@dataclass
class Registry:
    """Every factory registered, by kind and name, plus the errors met while loading."""

    entries: dict[str, dict[str, Registration]] = field(default_factory=dict)
    errors: list[PluginError] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries.get(kind, {}))

    def get(self, kind: str, name: str) -> Registration:
        try:
            return self.entries[kind][name]
        except KeyError:
            known = ", ".join(self.names(kind)) or "none"
            raise PluginError(
                "registry", f"no {kind} adapter named {name!r} (known: {known})"
            ) from None

    def factory(self, kind: str, name: str) -> Any:
        return self.get(kind, name).factory

    def factories(self, kind: str) -> dict[str, Any]:
        """Every factory (or strategy) of ``kind`` by name."""
        return {name: self.factory(kind, name) for name in self.names(kind)}


def _load_module(modname: str) -> object:
    return importlib.import_module(modname)


def build_plugin_manager(
    builtins: Iterable[str] = BUILTIN_PLUGINS,
    *,
    entry_points: bool = True,
    extra: Iterable[tuple[str, object]] = (),
) -> tuple[pluggy.PluginManager, list[PluginError]]:
    """A fresh plugin manager with built-ins, entry-point plugins and ``extra`` registered.

    A plugin that fails to import is reported (by name) and skipped; the rest still load.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    errors: list[PluginError] = []

    def register(name: str, obj: object) -> None:
        try:
            pm.register(obj, name=name)
        except Exception as exc:  # pluggy validation errors, duplicate plugin names
            errors.append(PluginError(name, f"could not register: {exc}"))

    for modname in builtins:
        try:
            register(modname, _load_module(modname))
        except Exception as exc:
            errors.append(PluginError(modname, f"failed to import: {type(exc).__name__}: {exc}"))
    if entry_points:
        for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT_NAME):
            label = f"{ep.name} ({ep.value})"
            try:
                register(label, ep.load())
            except Exception as exc:
                errors.append(PluginError(label, f"failed to import: {type(exc).__name__}: {exc}"))
    for name, obj in extra:
        register(name, obj)
    return pm, errors


def collect_registry(pm: pluggy.PluginManager, errors: list[PluginError] | None = None) -> Registry:
    """Call every hook and index the factories; duplicates and bad answers become errors."""
    registry = Registry(errors=list(errors or []))
    registry.plugins = [pm.get_name(p) or repr(p) for p in pm.get_plugins()]
    for hook_name, kind in hookspecs.KINDS.items():
        kind_entries = registry.entries.setdefault(kind, {})
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order
            plugin = impl.plugin_name
            try:
                answer = impl.function()
            except Exception as exc:
                registry.errors.append(PluginError(plugin, f"{hook_name} raised {exc!r}"))
                continue
            if not isinstance(answer, Mapping):
                registry.errors.append(
                    PluginError(plugin, f"{hook_name} must return a mapping, got {type(answer)}")
                )
                continue
            for name, factory in answer.items():
                if not isinstance(name, str) or not callable(factory):
                    registry.errors.append(
                        PluginError(plugin, f"{hook_name}: {name!r} is not a name -> callable")
                    )
                    continue
                if name in kind_entries:
                    first = kind_entries[name].plugin
                    registry.errors.append(
                        PluginError(
                            plugin, f"duplicate {kind} name {name!r} (already from {first})"
                        )
                    )
                    continue
                kind_entries[name] = Registration(kind, name, factory, plugin)
    return registry


def load_registry(
    builtins: Iterable[str] = BUILTIN_PLUGINS,
    *,
    entry_points: bool = True,
    extra: Iterable[tuple[str, object]] = (),
) -> Registry:
    """Plugin manager + registry in one call: what the container uses."""
    pm, errors = build_plugin_manager(builtins, entry_points=entry_points, extra=extra)
    return collect_registry(pm, errors)
