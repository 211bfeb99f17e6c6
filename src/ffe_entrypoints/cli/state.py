"""Per-invocation CLI state shared by every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the settings (pydantic) load when a command needs them, not for --help
    from ffe_core.config import Settings


@dataclass
class CliState:
    debug: bool = False
    config_dir: Path | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        """Load (once) and validate the tiered configuration."""
        if self._settings is None:
            from ffe_entrypoints.settings import load_settings

            self._settings = load_settings(self.config_dir)
        return self._settings


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()
