"""Provider commands: ``ffe providers stats`` shows learned weights, how each provider did,
what its dollars bought (value for money over a window, from the cost ledger) and which
providers ``costs.demote`` holds at the weight floor, with why."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ffe_entrypoints.cli.runtime import with_container

if TYPE_CHECKING:
    from ffe_core.domain.costs import ProviderValue
    from ffe_core.domain.performance import ProviderStats
    from ffe_entrypoints.container import Container

console = Console()


def stats_record(
    s: ProviderStats, value: ProviderValue | None = None, demoted: str | None = None
) -> dict[str, Any]:
    """One provider's row as JSON: totals plus the derived hit rate and mean Brier score, its
    value for money over the window when the ledger knows it, and why it is demoted (or null)."""
    return {
        "provider": s.provider,
        "weight": s.weight,
        "votes": s.votes,
        "scored": s.scored,
        "provisional": s.provisional,
        "hits": s.hits,
        "hit_rate": s.hit_rate,
        "brier": s.brier,
        "pnl": s.pnl,
        "last_reason": s.last_reason,
        "updated_at": s.updated_at.isoformat(),
        "value": value.model_dump(mode="json") if value is not None else None,
        "demoted": demoted,
    }


def stats_table(rows: list[ProviderStats], demoted: dict[str, str] | None = None) -> Table:
    """The performance table; a demoted provider is marked and its reason shown."""
    demoted = demoted or {}
    caption = "* provisional: fewer than 30 votes scored so far"
    if demoted:
        caption += "; ↓ demoted: held at the weight floor by costs.demote"
    table = Table(
        title="Provider performance (P&L: sum of return x direction x weight share)",
        caption=caption,
    )
    for column in ("provider", "weight", "votes", "scored", "hit rate", "Brier", "P&L"):
        provider = column == "provider"
        table.add_column(column, justify="left" if provider else "right", no_wrap=provider)
    table.add_column("last reason", overflow="fold")
    for s in sorted(rows, key=lambda r: (-r.weight, r.provider)):
        table.add_row(
            f"{s.provider} ↓" if s.provider in demoted else s.provider,
            f"{s.weight:.2f}",
            str(s.votes),
            f"{s.scored}*" if s.provisional else str(s.scored),
            "-" if s.hit_rate is None else f"{s.hit_rate:.1%}",
            "-" if s.brier is None else f"{s.brier:.3f}",
            f"{s.pnl:+.2%}",
            f"demoted: {demoted[s.provider]}" if s.provider in demoted else s.last_reason,
        )
    return table


def _per_usd(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4g}"


def value_table(values: list[ProviderValue], demoted: dict[str, str] | None = None) -> Table:
    """Value for money: what each provider cost over the window and what it bought; the
    providers ``costs.demote`` holds at the weight floor are marked, with why, in the caption."""
    demoted = demoted or {}
    days = values[0].window_days if values else 0
    caption = "\n".join(f"↓ {name} demoted: {why}" for name, why in sorted(demoted.items()))
    table = Table(
        title=f"Value for money over {days} days (per dollar spent)", caption=caption or None
    )
    for column in ("provider", "calls", "cost", "scored", "Brier gain", "gain/$", "P&L", "P&L/$"):
        provider = column == "provider"
        table.add_column(column, justify="left" if provider else "right", no_wrap=provider)
    for v in values:
        table.add_row(
            f"{v.provider} ↓" if v.provider in demoted else v.provider,
            str(v.calls),
            f"${v.cost_usd:,.4f}",
            str(v.scored),
            f"{v.brier_improvement:+.3f}",
            _per_usd(v.brier_improvement_per_usd),
            f"{v.pnl_usd:+,.2f}",
            _per_usd(v.pnl_per_usd),
        )
    return table


def register(app: typer.Typer) -> None:
    providers_app = typer.Typer(help="Decision providers: performance and learned weights.")

    @providers_app.command("stats")
    def providers_stats(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        window_days: Annotated[
            int | None,
            typer.Option(
                min=1, max=3660, help="Value-for-money window (default costs.value_window_days)."
            ),
        ] = None,
    ) -> None:
        """Per-provider hit rate, calibration (Brier), P&L attribution, current weight, and
        value for money: Brier improvement and attributed trade P&L per dollar spent."""

        async def work(
            c: Container,
        ) -> tuple[list[ProviderStats], list[ProviderValue], dict[str, str]]:
            from ffe_core.services.demotion import demotions
            from ffe_core.services.learning import LearningService

            learning = c.settings().learning
            stats = await LearningService(c.uow_factory(), learning).stats()
            values = await c.cost_ledger().value(learning.learning_horizon, window_days)
            return stats, values, await demotions(c.weights())

        rows, values, demoted = with_container(ctx, work)
        by_name = {v.provider: v for v in values}
        if as_json:
            from ffe_core.domain.performance import ProviderStats

            known = {s.provider for s in rows}
            rows += [ProviderStats(provider=v.provider) for v in values if v.provider not in known]
            known |= {v.provider for v in values}
            rows += [ProviderStats(provider=p) for p in sorted(demoted) if p not in known]
            records = [
                stats_record(s, by_name.get(s.provider), demoted.get(s.provider)) for s in rows
            ]
            typer.echo(json.dumps({"providers": records}, indent=2))
            return
        if not rows:
            console.print(
                "No provider has been scored yet (outcomes are scored after each horizon)."
            )
        else:
            console.print(stats_table(rows, demoted))
        if values:
            console.print(value_table(values, demoted))

    app.add_typer(providers_app, name="providers")
