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
        """Print the effective configuration, secrets masked, and which files and database are in
        use (``in_use`` in JSON)."""
        from ffe_core.config import mask_url_passwords
        from ffe_entrypoints.settings import masked_dump

        cli = state(ctx)
        settings, project = cli.settings(), cli.project()
        files = [str(f.resolve()) for f in project.files()]
        in_use = {
            "config_dir": str(project.config_dir),
            "found_by": project.found_by,
            "files": files,
            "database": mask_url_passwords(settings.storage.url),
        }
        data = masked_dump(settings)
        if as_json:
            typer.echo(json.dumps({**data, "in_use": in_use}, indent=2))
            return
        import yaml

        typer.echo(f"# config: {', '.join(files) or 'no file (built-in defaults)'}")
        typer.echo(f"#   ({project.found_by})\n# database: {in_use['database']}")
        console.print(yaml.safe_dump(data, sort_keys=False), highlight=False, markup=False)

    app.add_typer(config_app, name="config")
