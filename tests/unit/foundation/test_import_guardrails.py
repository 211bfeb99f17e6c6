"""Import rules the style guide states, checked on the source (import-linter covers the deny-lists
and adapter independence in pyproject.toml; an allow-list needs the standard library's names)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from ffe_adapters.registry import BUILTIN_PLUGINS

ROOT = Path(__file__).resolve().parents[3]
CORE_ALLOWED = {"ffe_core", "pydantic", "numpy", "numba"}
"""Besides the standard library: what ``ffe_core`` may import."""
PLUGIN_ALLOWED = ("ffe_core", "ffe_adapters.hookspecs")


def imported(path: Path) -> list[str]:
    """Absolute module names imported anywhere in ``path`` (relative imports are its own)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_the_core_imports_only_the_standard_library_pydantic_numpy_and_numba() -> None:
    allowed = CORE_ALLOWED | set(sys.stdlib_module_names)
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "src" / "ffe_core").rglob("*.py")
        for name in imported(path)
        if name.split(".")[0] not in allowed
    }
    assert found == set()


def test_plugins_import_only_the_core_and_the_hookspecs() -> None:
    files = list((ROOT / "plugins").glob("*/src/**/*.py"))
    assert files, "no plugin sources found"
    own = {path.parent.name for path in files}
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in imported(path)
        if name.startswith("ffe")
        and not name.startswith(PLUGIN_ALLOWED)
        and name.split(".")[0] not in own
    }
    assert found == set()


def test_every_built_in_plugin_module_is_registered() -> None:
    adapters = ROOT / "src" / "ffe_adapters"
    modules = {
        ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
        for path in adapters.rglob("plugin.py")
    }
    assert modules == set(BUILTIN_PLUGINS)


ENTRYPOINT_ADAPTER_IMPORTS = (
    "ffe_adapters.registry",
    "ffe_adapters.hookspecs",
    "ffe_adapters.telemetry",
)
"""What entry points other than ``container.py`` may import from the adapters: the registry, the
plugin contract and the shared telemetry (the API's Prometheus endpoint reads its registry)."""


def test_only_the_container_names_adapter_modules() -> None:
    """Every other entry point gets adapters by name through the registry (e.g. the compute
    backend of ``ffe optimize``), so a third-party plugin can stand in for any of them."""
    entrypoints = ROOT / "src" / "ffe_entrypoints"
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in entrypoints.rglob("*.py")
        if path != entrypoints / "container.py"
        for name in imported(path)
        if name.startswith("ffe_adapters") and not name.startswith(ENTRYPOINT_ADAPTER_IMPORTS)
    }
    assert found == set()
