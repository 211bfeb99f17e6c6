"""Which project a command works on: its configuration directory and where its relative paths
(the SQLite database) are anchored, found the same way from any working directory.

In order: ``--config-dir``, ``FFE_CONFIG_DIR``, ``FFE_HOME`` (a project root), then the nearest
directory at or above the working directory that holds ``config/config.yaml``; else the working
directory with the built-in defaults. ``ffe config show`` says which was used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_MARKER = Path("config") / "config.yaml"
LOCATION_VARS = ("FFE_CONFIG_DIR", "FFE_HOME")
"""Environment variables that say where the project is (not settings themselves)."""


@dataclass(frozen=True)
class Project:
    config_dir: Path
    root: Path | None
    """Relative SQLite paths are anchored here; None: the working directory."""
    found_by: str

    def files(self) -> list[Path]:
        """The configuration files that exist and are read, lowest tier first."""
        from ffe_entrypoints.settings import CONFIG_FILES

        return [self.config_dir / f for f in CONFIG_FILES if (self.config_dir / f).is_file()]


def locate(
    explicit: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Project:
    env = os.environ if environ is None else environ
    if explicit is not None:
        return Project(explicit, None, "--config-dir")
    if env.get("FFE_CONFIG_DIR", "").strip():
        return Project(Path(env["FFE_CONFIG_DIR"]), None, "FFE_CONFIG_DIR")
    if env.get("FFE_HOME", "").strip():
        home = Path(env["FFE_HOME"]).expanduser().resolve()
        return Project(home / "config", home, "FFE_HOME")
    here = (cwd or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / PROJECT_MARKER).is_file():
            how = "the working directory" if directory == here else f"found above {here}"
            return Project(directory / "config", directory, how)
    return Project(here / "config", None, "none found: built-in defaults")


def anchored(url: str, root: Path | None) -> str:
    """``url`` with a relative SQLite path made absolute under ``root`` (unchanged otherwise)."""
    scheme, sep, path = url.partition(":///")
    if root is None or not sep or not scheme.startswith("sqlite"):
        return url
    if not path or path.startswith("/") or path.startswith(":memory:"):
        return url
    return f"{scheme}:///{(root / path).resolve()}"
