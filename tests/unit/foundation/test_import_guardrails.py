"""Import rules import-linter cannot see, checked on the source. The dependency rule itself is
import-linter's (pyproject.toml, ``make contracts``): the core's allow-list, adapters independent,
only ``container.py`` naming adapter modules, the example plugin importing only the core and the
hookspecs. Here: every plugin under ``plugins/`` (import-linter needs each one's package named),
and every built-in ``plugin.py`` registered."""

from __future__ import annotations

import ast
from pathlib import Path

from ffe_adapters.registry import BUILTIN_PLUGINS

ROOT = Path(__file__).resolve().parents[3]
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
