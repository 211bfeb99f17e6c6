"""Operations commands: plugins list, db upgrade/current, serve."""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ffe_core.domain.errors import ConfigError
from ffe_entrypoints.cli.state import state

if TYPE_CHECKING:
    from ffe_core.config import Settings

console = Console()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str) -> None:
    """Without an API key, refuse to listen beyond loopback unless explicitly allowed."""
    if (
        settings.api.api_key is None
        and not settings.api.allow_public_bind
        and not is_loopback(host)
    ):
        raise ConfigError(
            f"api.host: refusing to bind {host} without FINANCE_FEEDBACK_API_KEY "
            "(set api.allow_public_bind: true to override)"
        )


def register(app: typer.Typer) -> None:
    plugins_app = typer.Typer(help="Inspect plugins and the adapters they register.")
    db_app = typer.Typer(help="Database schema management.")

    @plugins_app.command("list")
    def plugins_list(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List every registered adapter by kind, and plugins that failed to load."""
        from ffe_adapters.registry import load_registry

        registry = load_registry()
        rows = [
            {"kind": kind, "name": name, "plugin": reg.plugin}
            for kind, entries in sorted(registry.entries.items())
            for name, reg in sorted(entries.items())
        ]
        errors = [{"plugin": e.plugin, "reason": e.reason} for e in registry.errors]
        kinds = {kind: registry.names(kind) for kind in sorted(registry.entries)}
        if as_json:
            typer.echo(json.dumps({"kinds": kinds, "adapters": rows, "errors": errors}, indent=2))
            return
        table = Table("kind", "name", "plugin", title="ffe adapters")
        for row in rows:
            table.add_row(row["kind"], row["name"], row["plugin"])
        console.print(table)
        for err in errors:
            console.print(f"[red]plugin {err['plugin']}: {err['reason']}[/red]")

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context) -> None:
        """Create or migrate the database schema to the latest revision."""
        from ffe_entrypoints.container import build_container
        from ffe_entrypoints.lifecycle import shutdown
        from ffe_entrypoints.preflight import reach_storage

        async def main() -> str | None:
            container = build_container(state(ctx).settings())
            try:
                await reach_storage(container)  # migrates, or one line naming storage.url
                storage = container.storage()
                revision: str | None = await storage.current_revision()
                return revision
            finally:
                await shutdown(container)

        import asyncio  # not for --help

        typer.echo(f"database at revision {asyncio.run(main())}")

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Bind address (default api.host).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default api.port).")] = None,
        agent: Annotated[
            bool | None, typer.Option("--agent/--no-agent", help="Start the agent at start-up.")
        ] = None,
    ) -> None:
        """Serve the REST API and dashboard with uvicorn; prints one line with the URL when ready."""
        from ffe_entrypoints.api.app import create_app
        from ffe_entrypoints.cli.serving import serve as run_server
        from ffe_entrypoints.container import build_container
        from ffe_entrypoints.lifecycle import shutdown, startup
        from ffe_entrypoints.services.live_gate import check_live_start

        settings = state(ctx).settings()
        check_live_start(settings)
        bind_host = host or settings.api.host
        check_bind(settings, bind_host)
        container = build_container(settings, agent_in_child=settings.agent.own_process)
        application = create_app(container, start_agent=agent, started=True)

        async def start() -> None:
            """The start-up checks, once, on the server's loop before uvicorn's start-up: a
            refusal is one line and exit 2 here, not a traceback from uvicorn."""
            try:
                await startup(container)
            except BaseException:
                await shutdown(container)
                raise

        def warm_agent_process() -> None:
            """Once the API answers, the idle agent process warms up while it serves."""
            from ffe_entrypoints.services.process_control import AgentProcessControl

            control = container.control() if container.agent_in_child() else None
            if isinstance(control, AgentProcessControl):
                control.warm()

        run_server(
            application,
            settings,
            bind_host,
            settings.api.port if port is None else port,
            before=start,
            after_ready=warm_agent_process,
        )

    app.add_typer(plugins_app, name="plugins")
    app.add_typer(db_app, name="db")
