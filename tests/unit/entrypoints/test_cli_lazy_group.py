"""The top-level group lists every command from ``COMMANDS`` without importing its module: the
listing must be what the commands themselves say (``COMMANDS`` orders it)."""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperGroup
from typer.main import get_command, get_group
from typer.testing import CliRunner

from ffe_entrypoints.cli.lazy_group import COMMANDS, LazyGroup
from ffe_entrypoints.cli.main import build_app


def registered(app: typer.Typer) -> typer.Typer:
    """``app`` with every command module registered on it up front."""
    for module in dict.fromkeys(m for entry in COMMANDS.values() for m in entry.modules):
        importlib.import_module(module).register(app)
    return app


def test_commands_lists_each_command_with_the_first_paragraph_of_its_help() -> None:
    commands = get_group(registered(typer.Typer())).commands
    own = {name: (c.short_help or c.help or "").split("\n\n")[0] for name, c in commands.items()}
    assert {name: entry.help for name, entry in COMMANDS.items()} == own


def test_the_help_screen_is_the_one_with_every_command_registered() -> None:
    lazy = CliRunner().invoke(build_app(), ["--help"])
    eager = CliRunner().invoke(registered(build_app()), ["--help"])
    assert lazy.exit_code == eager.exit_code == 0
    assert "walk-forward" in lazy.stdout
    assert lazy.stdout == eager.stdout


def test_a_command_loads_its_own_modules_only() -> None:
    group = get_command(build_app())
    assert isinstance(group, LazyGroup)
    before = set(sys.modules)
    db = group.load("db")  # two modules register into the one db group
    assert isinstance(db, TyperGroup)
    assert {"upgrade", "backup", "restore"} <= set(db.commands)
    assert group.commands["db"] is db
    assert "ffe_entrypoints.cli.commands_backtest" not in set(sys.modules) - before
