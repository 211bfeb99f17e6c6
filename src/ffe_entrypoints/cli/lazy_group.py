"""The top-level command group: a command's module is imported when that command runs, so
``ffe --help`` (and every command) loads none of the other commands' modules.

``COMMANDS`` lists each command in help order, with the modules that register it (each defines
``register(app: typer.Typer) -> None``) and the line the help lists it with: the first paragraph
of its own help (a test checks that the two agree)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

if TYPE_CHECKING:  # typer's vendored Click, for the overridden signature only
    from typer import _click


class Listed(NamedTuple):
    modules: tuple[str, ...]
    help: str


def _at(*names: str) -> tuple[str, ...]:
    return tuple(f"ffe_entrypoints.cli.commands_{name}" for name in names)


COMMANDS: dict[str, Listed] = {
    "version": Listed(_at("core"), "Print the ffe version."),
    "serve": Listed(
        _at("ops"),
        "Serve the REST API and dashboard with uvicorn; prints one line with the URL when ready.",
    ),
    "decide": Listed(
        _at("trading"), "Ask the ensemble for a decision now (stored like any other)."
    ),
    "backtest": Listed(_at("backtest"), "Backtest one strategy with fixed parameters."),
    "optimize": Listed(
        _at("backtest"), "Search parameters (grid, or random with --samples) in parallel."
    ),
    "walk-forward": Listed(
        _at("backtest"),
        "Walk-forward analysis with per-window parameters, PBO and deflated Sharpe.",
    ),
    "costs": Listed(
        _at("audit"),
        "The cost ledger: today's and this month's spend per provider against the budgets.",
    ),
    "replay": Listed(
        _at("replay"),
        "Replay the configured decision stack over history: attribution, look-ahead, cost.",
    ),
    "config": Listed(_at("core"), "Inspect configuration."),
    "data": Listed(_at("data"), "Fetch and inspect market data."),
    "plugins": Listed(_at("ops"), "Inspect plugins and the adapters they register."),
    "db": Listed(_at("ops", "db"), "Database schema management."),
    "agent": Listed(_at("trading"), "Run the autonomous agent."),
    "approvals": Listed(_at("trading"), "Human approval of decisions."),
    "providers": Listed(_at("providers"), "Decision providers: performance and learned weights."),
    "decisions": Listed(
        _at("audit"), "The decision flight recorder: explain and replay stored decisions."
    ),
}


class _Unloaded(TyperCommand):
    """A command as the help lists it, before its module is imported."""


class LazyGroup(TyperGroup):
    """Lists ``COMMANDS`` from their lines; imports a command's modules to resolve it."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        listed = {name: _Unloaded(name=name, help=entry.help) for name, entry in COMMANDS.items()}
        self.commands = {**listed, **self.commands}

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        if args and isinstance(self.commands.get(args[0]), _Unloaded):
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, name: str) -> _click.Command:
        """The command ``name``, its modules imported and registered."""
        app = typer.Typer()
        for module in COMMANDS[name].modules:
            importlib.import_module(module).register(app)
        command = get_group(app).commands[name]
        self.commands[name] = command
        return command
