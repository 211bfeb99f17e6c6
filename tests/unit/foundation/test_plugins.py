"""The plugin contract: every hook documented and tested; broken plugins reported, others load."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from ffe_adapters import hookspecs
from ffe_adapters.hookspecs import AdapterContext, hookimpl
from ffe_adapters.registry import BUILTIN_PLUGINS, build_plugin_manager, load_registry
from ffe_core.config import Settings

ROOT = Path(__file__).resolve().parents[3]
HOOK_NAMES = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("ffe_")
)


def test_every_hookspec_is_a_registry_kind() -> None:
    assert sorted(hookspecs.KINDS) == HOOK_NAMES


def test_plugin_hooks_are_documented() -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text()
    undocumented = [h for h in HOOK_NAMES if f"### {h}\n" not in doc]
    assert not undocumented, f"hooks missing from docs/plugins.md: {undocumented}"
    for name in HOOK_NAMES:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"


def test_plugin_hooks_have_tests() -> None:
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    untested = [h for h in HOOK_NAMES if not re.search(rf"def test_hook_{h}\b", tests)]
    assert not untested, f"hooks without a test_hook_<name> test: {untested}"


def _kind_names(kind: str) -> list[str]:
    return load_registry().names(kind)


def test_hook_ffe_storage_backends() -> None:
    assert {"sqlite", "postgresql"} <= set(_kind_names("storage"))


def test_hook_ffe_caches() -> None:
    assert {"memory", "redis", "none"} <= set(_kind_names("caches"))


def test_hook_ffe_notifiers() -> None:
    assert "log" in _kind_names("notifiers")


def test_hook_ffe_approval_channels() -> None:
    assert "log" in _kind_names("approval_channels")


def test_hook_ffe_brokers() -> None:
    assert "paper" in _kind_names("brokers")


def test_hook_ffe_market_data_sources() -> None:
    assert {"bundled", "synthetic"} <= set(_kind_names("market_data"))


def test_hook_ffe_decision_providers() -> None:
    assert {"trend", "mean_reversion", "breakout"} <= set(_kind_names("decision_providers"))


def test_hook_ffe_strategies() -> None:
    assert "sma_cross" in _kind_names("strategies")


def test_hook_ffe_order_strategies() -> None:
    from ffe_core.backtest.order_strategies import SMA_BRACKET

    registry = load_registry(entry_points=False)
    assert registry.factory("order_strategies", "sma_bracket") is SMA_BRACKET


def test_builtin_plugins_all_load() -> None:
    registry = load_registry(entry_points=False)
    assert registry.errors == []
    assert set(BUILTIN_PLUGINS) <= set(registry.plugins)


def test_plugin_manager_is_built_per_call() -> None:
    pm1, _ = build_plugin_manager(entry_points=False)
    pm2, _ = build_plugin_manager(entry_points=False)
    assert pm1 is not pm2


class _Dup:
    @staticmethod
    @hookimpl
    def ffe_brokers() -> dict[str, object]:
        return {"paper": lambda ctx: None, "dup_extra": lambda ctx: None}


class _Bad:
    @staticmethod
    @hookimpl
    def ffe_caches() -> object:
        return ["not", "a", "mapping"]


def test_broken_and_duplicate_plugins_are_reported_and_the_rest_load() -> None:
    registry = load_registry(
        (*BUILTIN_PLUGINS, "ffe_nonexistent_plugin.module"),
        entry_points=False,
        extra=[("dup-plugin", _Dup()), ("bad-plugin", _Bad())],
    )
    reasons = {e.plugin: e.reason for e in registry.errors}
    assert "failed to import" in reasons["ffe_nonexistent_plugin.module"]
    assert "duplicate brokers name 'paper'" in reasons["dup-plugin"]
    assert "mapping" in reasons["bad-plugin"]
    assert registry.get("brokers", "paper").plugin == "ffe_adapters.brokers.paper.plugin"
    assert "dup_extra" in registry.names("brokers")
    assert "sqlite" in registry.names("storage")


def test_unknown_adapter_name_lists_the_known_ones() -> None:
    from ffe_core.domain.errors import PluginError

    with pytest.raises(PluginError, match=r"known: .*paper"):
        load_registry().get("brokers", "nope")


def test_factories_receive_their_own_options() -> None:
    settings = Settings(adapters={"contrarian": {"lookback": 7}})
    ctx = AdapterContext(name="contrarian", options=settings.adapters["contrarian"])
    registry = load_registry()
    provider = registry.factory("decision_providers", "contrarian")(ctx)
    assert provider.options.lookback == 7


def test_a_bad_option_is_refused_naming_the_adapter_key() -> None:
    from ffe_core.domain.errors import ConfigError

    ctx = AdapterContext(name="contrarian", options={"lookback": 1})
    with pytest.raises(ConfigError, match=r"^adapters\.contrarian\.lookback: "):
        load_registry().factory("decision_providers", "contrarian")(ctx)


def test_the_context_carries_typed_core_values_never_the_whole_settings() -> None:
    import dataclasses

    fields = {f.name: f.type for f in dataclasses.fields(AdapterContext)}
    assert "settings" not in fields
    assert "Settings" not in " ".join(str(t) for t in fields.values()).replace("CoreView", "")


OPTIONLESS = {
    ("approval_channels", "log"),
    ("notifiers", "log"),
    ("caches", "none"),
    ("compute", "local"),
    ("leases", "none"),
    ("leases", "storage"),
    ("metrics", "none"),
    ("metrics", "prometheus"),
    ("tracers", "otlp"),
}
"""Adapters that have no ``adapters.<name>`` options (the tracer reads ``monitoring``)."""


def test_every_adapter_reads_its_options_through_its_own_model_and_names_a_bad_key() -> None:
    """Built-in or plugin, an adapter with options refuses an unknown one as a one-line
    ConfigError naming ``adapters.<name>.<key>`` (``AdapterContext.parse_options``), never a raw
    pydantic error."""
    from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
    from ffe_core.domain.errors import ConfigError

    registry = load_registry()
    source = registry.factory("market_data", "synthetic")(AdapterContext("synthetic"))
    wrong: list[str] = []
    for kind in sorted(set(hookspecs.KINDS.values()) - {"strategies", "order_strategies"}):
        for name in registry.names(kind):
            if (kind, name) in OPTIONLESS:
                continue
            ctx = AdapterContext(
                name,
                {"no_such_option": 1},
                uow_factory=InMemoryUnitOfWorkFactory(),
                market_data=source,
            )
            try:
                registry.factory(kind, name)(ctx)
                wrong.append(f"{kind} {name}: built")
            except ConfigError as exc:
                if not str(exc).startswith(f"adapters.{name}.no_such_option: "):
                    wrong.append(f"{kind} {name}: {exc}")
            except Exception as exc:
                wrong.append(f"{kind} {name}: {type(exc).__name__}")
    assert wrong == []
