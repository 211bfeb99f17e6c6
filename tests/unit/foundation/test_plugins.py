"""The plugin contract: every hook documented and tested; broken plugins reported, others load."""

from __future__ import annotations

import ast
import inspect
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


def test_plugin_hooks_document_their_signature() -> None:
    """Each hook's section in docs/plugins.md opens with the hookspec's own signature."""
    doc = (ROOT / "docs" / "plugins.md").read_text()
    wrong = {}
    for name in HOOK_NAMES:
        signature = str(inspect.signature(getattr(hookspecs, name))).replace("'", "")
        documented = doc.split(f"### {name}\n", 1)[1].split("`", 2)[1]
        if documented != f"{name}{signature}":
            wrong[name] = (documented, f"{name}{signature}")
    assert not wrong, f"docs/plugins.md signatures differ from hookspecs.py: {wrong}"


def _hook_tests() -> dict[str, ast.AsyncFunctionDef | ast.FunctionDef]:
    found: dict[str, ast.AsyncFunctionDef | ast.FunctionDef] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test_hook_"
            ):
                found[node.name.removeprefix("test_hook_")] = node
    return found


def _builds_through_the_registry(test: ast.AsyncFunctionDef | ast.FunctionDef) -> bool:
    """The test asks the registry for the hook's factory (``registry.factory(kind, name)``)
    and so uses what the hook registered, not only its name."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "factory"
        for node in ast.walk(test)
    )


def test_plugin_hooks_have_tests() -> None:
    """Every hook has a behavioural ``test_hook_<hook>``: it builds an adapter (or takes the
    strategy) the hook registered and uses it (tests/integration/test_adapter_kinds.py)."""
    tests = _hook_tests()
    untested = [h for h in HOOK_NAMES if h not in tests]
    assert not untested, f"hooks without a test_hook_<name> test: {untested}"
    name_only = [h for h in HOOK_NAMES if not _builds_through_the_registry(tests[h])]
    assert not name_only, f"test_hook_<name> tests that never build what the hook gave: {name_only}"


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


def test_the_registry_lists_every_factory_of_a_kind_by_name() -> None:
    registry = load_registry()
    strategies = registry.factories("strategies")
    assert sorted(strategies) == registry.names("strategies")
    assert strategies["sma_cross"] is registry.factory("strategies", "sma_cross")
