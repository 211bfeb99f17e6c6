"""Trading commands: decide, agent run, approvals."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from ffe_core.domain.errors import ConflictError, ValidationFailed
from ffe_entrypoints.cli.runtime import with_container

if TYPE_CHECKING:  # domain models (pydantic) and the container load when a command runs
    from ffe_core.domain.agent import AgentCycle
    from ffe_core.domain.approvals import Approval
    from ffe_core.domain.decisions import Decision
    from ffe_entrypoints.container import Container

APPROVAL_STATUSES = ("pending", "approved", "rejected", "expired", "superseded", "failed")
"""``ApprovalStatus``'s values, spelled out so that ``--help`` does not import the domain
models (a test keeps the two equal)."""

console = Console()
err_console = Console(stderr=True)


def decision_table(decision: Decision) -> Table:
    table = Table(title=f"{decision.instrument}: {decision.action} ({decision.confidence:.0%})")
    for column in ("provider", "vote", "confidence", "latency ms", "reasoning"):
        table.add_column(column, overflow="fold")
    for v in decision.votes:
        vote = "abstained" if v.abstained else v.action.value
        why = v.abstain_reason if v.abstained else v.reasoning
        weight = decision.weights.get(v.provider, 1.0)
        table.add_row(
            f"{v.provider} (w {weight:.2f})",
            vote,
            f"{v.confidence:.2f}",
            f"{v.latency_ms:.1f}",
            why or "",
        )
    table.caption = "\n".join([*_verdict_lines(decision), decision.reasoning[:300]])
    return table


def _verdict_lines(decision: Decision) -> list[str]:
    """The risk verdict, the size and notional it allows, the price and protective levels."""
    risk = decision.risk
    size = decision.suggested_size
    lines = [
        "risk: "
        + ("not checked" if risk is None else ("approved" if risk.approved else "REJECTED"))
        + (f" ({risk.reason})" if risk is not None and risk.reason != "approved" else ""),
        f"size: {size if size is not None else '-'}"
        + (f"  notional: {_money(risk.notional)}" if risk is not None and risk.notional else ""),
        f"price: {decision.reference_price or '-'}  stop loss: {decision.stop_loss or '-'}"
        f"  take profit: {decision.take_profit or '-'}",
    ]
    return lines


CONFLICT_EXIT = 2
"""``approvals approve|reject`` on an approval that is not pending (or while the kill switch is
tripped): one line on stderr with its true state, exit 2 (other domain errors map in main.py)."""


def _money(value: Decimal | None) -> str:
    return f"{value:,.2f}" if value is not None else ""


def _size(text: str | None) -> Decimal | None:
    """``--size`` as a Decimal (one line and exit 2 when it is not a finite number)."""
    if text is None:
        return None
    try:
        size = Decimal(text)
    except ArithmeticError:
        raise ValidationFailed(f"--size must be a number, not {text[:40]!r}") from None
    if not size.is_finite():
        raise ValidationFailed(f"--size must be a finite number, not {text[:40]!r}")
    return size


def mode_banner(container: Container) -> str:
    settings = container.settings()
    mode = settings.trading.mode.value.upper()
    return (
        f"[bold {'red' if mode == 'LIVE' else 'green'}]{mode}[/] broker={settings.trading.broker}"
    )


def register(app: typer.Typer) -> None:
    agent_app = typer.Typer(help="Run the autonomous agent.")
    approvals_app = typer.Typer(help="Human approval of decisions.")

    @app.command()
    def decide(
        ctx: typer.Context,
        symbol: Annotated[str, typer.Argument(help="Instrument, e.g. BTC-USD.")],
        providers: Annotated[
            str | None, typer.Option(help="Comma-separated providers (default: all enabled).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the decision record.")] = False,
    ) -> None:
        """Ask the ensemble for a decision now (stored like any other)."""
        names = [p.strip() for p in providers.split(",") if p.strip()] if providers else None

        async def work(c: Container) -> Decision:
            decision: Decision = await c.decision_service().decide(symbol, names)
            return decision

        decision = with_container(ctx, work)
        if as_json:
            typer.echo(decision.model_dump_json(indent=2))
        else:
            console.print(decision_table(decision))

    @agent_app.command("run")
    def agent_run(
        ctx: typer.Context,
        cycles: Annotated[int | None, typer.Option(min=1, help="Stop after N cycles.")] = None,
        interval: Annotated[
            float | None, typer.Option(min=0, help="Seconds between passes (default config).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    ) -> None:
        """Run the agent in the foreground (live view; Ctrl-C stops after the current cycle)."""

        async def work(c: Container) -> dict[str, object]:
            agent = c.agent()
            journal: list[AgentCycle] = []
            live = None if as_json else Live(console=console, refresh_per_second=4)

            async def on_cycle(cycle: AgentCycle) -> None:
                journal.append(cycle)
                if live is not None:
                    portfolio = await c.broker().get_portfolio()
                    live.update(_live_view(c, journal, portfolio))

            if live is not None:
                live.start()
            try:
                run = await agent.run(cycles=cycles, interval=interval, on_cycle=on_cycle)
            finally:
                if live is not None:
                    live.stop()
            portfolio = await c.broker().get_portfolio()
            async with c.uow_factory()() as uow:  # this run's, not the ledger's lifetime totals
                fills = [f for f in await uow.fills.list() if f.ts >= run.started_at]
                orders = [o for o in await uow.orders.list() if o.created_at >= run.started_at]
            decisions = [cy.decision_id for cy in journal if cy.decision_id]
            return {
                "run_id": run.id,
                "cycles": len(journal),
                "phases": {
                    p: sum(1 for cy in journal if cy.phase == p)
                    for p in {cy.phase for cy in journal}
                },
                "decisions": len(decisions),
                "orders": len(orders),
                "fills": len(fills),
                "cash": str(portfolio.cash),
                "positions": {s: str(p.quantity) for s, p in portfolio.positions.items()},
                "mode": c.settings().trading.mode.value,
                "kill_switch": agent.kill_switch().model_dump(mode="json"),
            }

        from ffe_entrypoints.cli.state import state
        from ffe_entrypoints.services.live_gate import check_live_start

        check_live_start(state(ctx).settings())
        summary = with_container(ctx, work)
        if as_json:
            typer.echo(json.dumps(summary, indent=2, default=str))
        else:
            console.print(Panel(json.dumps(summary, indent=2, default=str), title="agent run"))

    @agent_app.command("reset-kill-switch")
    def agent_reset_kill_switch(
        ctx: typer.Context,
        by: Annotated[str, typer.Option(help="Who resets it (recorded).")] = "cli",
    ) -> None:
        """Re-allow trading after the drawdown kill switch fired.

        The reset is written to storage, so a running server picks it up (its status and the
        next start see it); recorded with who, when and why it had tripped, and audited.
        """

        async def work(c: Container) -> str:
            agent = c.agent()
            before = await agent.refresh_kill_switch()
            state = await agent.reset_kill_switch(by)
            if state.tripped:
                return f"kill switch still tripped: {state.reason}"
            if not before.tripped:
                return "kill switch is not tripped; nothing to reset"
            when = before.at.isoformat() if before.at else "unknown time"
            return f"kill switch reset by {by} (it had tripped at {when}: {before.reason})"

        typer.echo(with_container(ctx, work))

    @approvals_app.command("list")
    def approvals_list(
        ctx: typer.Context,
        status: Annotated[str | None, typer.Option(help="|".join(APPROVAL_STATUSES))] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """List approvals (default: all)."""
        from ffe_core.domain.approvals import ApprovalStatus

        try:
            wanted = ApprovalStatus(status) if status else None
        except ValueError:
            raise ValidationFailed(
                f"--status: must be one of {', '.join(ApprovalStatus)}"
            ) from None

        async def work(c: Container) -> list[Approval]:
            return await c.approval_service().find(wanted)

        items = with_container(ctx, work)
        if as_json:
            typer.echo(json.dumps([a.model_dump(mode="json") for a in items], indent=2))
            return
        table = Table()
        table.add_column("id", overflow="fold")  # never cut: it is what approve/reject take
        table.add_column("status", no_wrap=True, min_width=10)
        table.add_column("instrument", overflow="fold")
        table.add_column("summary", overflow="fold")
        table.add_column("notional", justify="right", no_wrap=True)
        table.add_column("expires", overflow="fold")
        table.add_column("decided by", overflow="fold")
        table.add_column("reason", overflow="fold")
        for a in items:
            table.add_row(
                a.id,
                a.status,
                a.instrument,
                a.summary,
                _money(a.notional),
                a.expires_at.isoformat(),
                a.decided_by or "",
                a.reason or "",
            )
        console.print(table)

    def _resolve(
        ctx: typer.Context, approval_id: str, approve: bool, by: str, size: str | None = None
    ) -> None:
        chosen = _size(size)

        async def work(c: Container) -> Approval:
            approval: Approval = await c.control().resolve_approval(
                approval_id, approve, by, chosen
            )
            return approval

        try:
            approval = with_container(ctx, work)
        except ConflictError as exc:  # not pending any more, or the kill switch is tripped
            first_line = (str(exc).strip().splitlines() or ["conflict"])[0]
            sys.stderr.write(f"error: {first_line}\n")
            raise typer.Exit(CONFLICT_EXIT) from None
        why = f": {approval.reason}" if approval.reason else ""
        typer.echo(f"approval {approval.id}: {approval.status} (by {approval.decided_by}){why}")

    @approvals_app.command("approve")
    def approvals_approve(
        ctx: typer.Context,
        approval_id: str,
        by: Annotated[str, typer.Option(help="Who approves (recorded).")] = "cli",
        size: Annotated[
            str | None,
            typer.Option(help="Approve a smaller order: above 0, at most the sized one."),
        ] = None,
    ) -> None:
        """Approve a pending decision (not pending any more: its true state, exit 2)."""
        _resolve(ctx, approval_id, True, by, size)

    @approvals_app.command("reject")
    def approvals_reject(
        ctx: typer.Context,
        approval_id: str,
        by: Annotated[str, typer.Option(help="Who rejects (recorded).")] = "cli",
    ) -> None:
        """Reject a pending decision (not pending any more: its true state, exit 2)."""
        _resolve(ctx, approval_id, False, by)

    app.add_typer(agent_app, name="agent")
    app.add_typer(approvals_app, name="approvals")


def _live_view(c: Container, journal: list[AgentCycle], portfolio: object) -> Group:
    from ffe_core.domain.portfolio import Portfolio

    assert isinstance(portfolio, Portfolio)
    cycles = Table("seq", "instrument", "phase", "note", title="last cycles")
    for cy in journal[-8:]:
        cycles.add_row(str(cy.seq), cy.instrument, cy.phase.value, cy.note[:80])
    positions = Table("instrument", "quantity", "avg price", "realized P&L", title="positions")
    for s, p in portfolio.positions.items():
        positions.add_row(s, str(p.quantity), f"{p.average_price:.6g}", f"{p.realized_pnl:.2f}")
    return Group(f"{mode_banner(c)}  cash {portfolio.cash:.2f}", positions, cycles)
