"""Provider commands: ``ffe providers stats`` shows learned weights and how each provider did."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ffe_entrypoints.cli.runtime import with_container

if TYPE_CHECKING:
    from ffe_core.domain.performance import ProviderStats
    from ffe_entrypoints.container import Container

console = Console()


def stats_record(s: ProviderStats) -> dict[str, Any]:
    """One provider's row as JSON: totals plus the derived hit rate and mean Brier score."""
    return {
        "provider": s.provider,
        "weight": s.weight,
        "votes": s.votes,
        "scored": s.scored,
        "hits": s.hits,
        "hit_rate": s.hit_rate,
        "brier": s.brier,
        "pnl": s.pnl,
        "last_reason": s.last_reason,
        "updated_at": s.updated_at.isoformat(),
    }


def stats_table(rows: list[ProviderStats]) -> Table:
    table = Table(title="Provider performance (P&L: sum of return x direction x weight share)")
    for column in ("provider", "weight", "votes", "scored", "hit rate", "Brier", "P&L"):
        table.add_column(column, justify="left" if column == "provider" else "right")
    table.add_column("last reason", overflow="fold")
    for s in sorted(rows, key=lambda r: (-r.weight, r.provider)):
        table.add_row(
            s.provider,
            f"{s.weight:.2f}",
            str(s.votes),
            str(s.scored),
            "-" if s.hit_rate is None else f"{s.hit_rate:.1%}",
            "-" if s.brier is None else f"{s.brier:.3f}",
            f"{s.pnl:+.2%}",
            s.last_reason,
        )
    return table


def register(app: typer.Typer) -> None:
    providers_app = typer.Typer(help="Decision providers: performance and learned weights.")

    @providers_app.command("stats")
    def providers_stats(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Per-provider hit rate, calibration (Brier), P&L attribution and current weight."""

        async def work(c: Container) -> list[ProviderStats]:
            from ffe_core.services.learning import LearningService

            return await LearningService(c.uow_factory()).stats()

        rows = with_container(ctx, work)
        if as_json:
            typer.echo(json.dumps({"providers": [stats_record(s) for s in rows]}, indent=2))
            return
        if not rows:
            console.print(
                "No provider has been scored yet (outcomes are scored after each horizon)."
            )
            return
        console.print(stats_table(rows))

    app.add_typer(providers_app, name="providers")
