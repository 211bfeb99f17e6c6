"""Per-invocation CLI state shared by every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the settings (pydantic) load when a command needs them, not for --help
    from ffe_core.config import Settings
    from ffe_entrypoints.project import Project


@dataclass
class CliState:
    debug: bool = False
    config_dir: Path | None = None
    _settings: Settings | None = None

    def project(self) -> Project:
        """The project this command works on (:mod:`ffe_entrypoints.project`)."""
        from ffe_entrypoints.project import locate

        return locate(self.config_dir)

    def settings(self) -> Settings:
        """Load (once) and validate the tiered configuration of :meth:`project`, its relative
        SQLite path anchored at the project root."""
        if self._settings is None:
            from ffe_entrypoints.project import anchored
            from ffe_entrypoints.settings import load_settings

            project = self.project()
            loaded = load_settings(project.config_dir)
            url = anchored(loaded.storage.url, project.root)
            if url != loaded.storage.url:
                storage = loaded.storage.model_copy(update={"url": url})
                loaded = loaded.model_copy(update={"storage": storage})
            self._settings = loaded
        return self._settings


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()
