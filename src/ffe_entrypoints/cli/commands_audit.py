"""Audit commands: ``ffe decisions explain|replay`` (the flight recorder) and ``ffe costs`` (the
cost ledger's spend against the budgets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ffe_entrypoints.cli.runtime import with_container

if TYPE_CHECKING:  # imported where used: ``ffe --help`` loads no domain model or container
    from ffe_core.domain.costs import SpendLine, SpendReport
    from ffe_core.domain.flight import DecisionTrail, ReplayReport
    from ffe_entrypoints.container import Container

console = Console()

DecisionId = Annotated[str, typer.Argument(help="The decision's id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (the audit export).")]


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def spend_table(report: SpendReport) -> Table:
    table = Table(
        title=f"Spend against budget (UTC day from {report.day_start:%Y-%m-%d}, "
        f"month from {report.month_start:%Y-%m-%d})"
    )
    for column in ("scope", "today", "daily budget", "month", "monthly budget", "calls today"):
        table.add_column(column, justify="left" if column == "scope" else "right")
    table.add_column("state")

    def row(line: SpendLine) -> None:
        table.add_row(
            "total" if line.scope == "*" else line.scope,
            _usd(line.spent_today_usd),
            _usd(line.daily_budget_usd),
            _usd(line.spent_month_usd),
            _usd(line.monthly_budget_usd),
            str(line.calls_today),
            "EXHAUSTED: abstains" if line.exhausted else "ok",
        )

    row(report.total)
    for line in report.providers:
        row(line)
    return table


def register(app: typer.Typer) -> None:
    decisions_app = typer.Typer(
        help="The decision flight recorder: explain and replay stored decisions.",
        no_args_is_help=True,
    )

    @decisions_app.command("explain")
    def decisions_explain(
        ctx: typer.Context, decision_id: DecisionId, as_json: AsJson = False
    ) -> None:
        """The whole chain in plain words: input, votes, weights, aggregation, risk, gate, order
        and fills (``--json``: everything, with the input snapshot and prompts)."""

        async def work(c: Container) -> DecisionTrail:
            return await c.flight_recorder().trail(decision_id)

        trail = with_container(ctx, work)
        from ffe_core.services.flight_explain import explain

        if as_json:
            typer.echo(trail.model_dump_json(indent=2))
            return
        for line in explain(trail):
            console.print(escape(line), soft_wrap=True)

    @decisions_app.command("replay")
    def decisions_replay(
        ctx: typer.Context, decision_id: DecisionId, as_json: AsJson = False
    ) -> None:
        """Re-run the decision offline from its stored snapshot and votes under today's weights
        and config; exit 0 when identical, 1 when something changed (each change is listed)."""

        async def work(c: Container) -> ReplayReport:
            return await c.flight_recorder().replay(
                decision_id, c.weights(), c.decision_providers()
            )

        report = with_container(ctx, work)
        from ffe_core.services.flight_explain import describe_replay

        if as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            for line in describe_replay(report):
                console.print(escape(line), soft_wrap=True)
        raise typer.Exit(0 if report.identical else 1)

    @app.command()
    def costs(ctx: typer.Context, as_json: AsJson = False) -> None:
        """The cost ledger: today's and this month's spend per provider against the budgets."""

        async def work(c: Container) -> SpendReport:
            return await c.cost_ledger().report()

        report = with_container(ctx, work)
        if as_json:
            typer.echo(report.model_dump_json(indent=2))
            return
        console.print(spend_table(report))

    app.add_typer(decisions_app, name="decisions")
