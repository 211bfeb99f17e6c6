"""Core commands: version, config show."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from ffe_core import __version__
from ffe_entrypoints.cli.state import state

console = Console()


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Inspect configuration.", no_args_is_help=True)

    @app.command()
    def version() -> None:
        """Print the ffe version."""
        typer.echo(__version__)

    @config_app.command("show")
    def config_show(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Print the effective configuration, secrets masked."""
        from ffe_entrypoints.settings import masked_dump

        data = masked_dump(state(ctx).settings())
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        else:
            import yaml

            console.print(yaml.safe_dump(data, sort_keys=False), highlight=False, markup=False)

    app.add_typer(config_app, name="config")
