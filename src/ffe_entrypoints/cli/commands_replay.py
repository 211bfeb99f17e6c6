"""``ffe replay``: the configured decision stack over history, with attribution and cost.

Only the command line lives here; the work (and its imports) is in
:mod:`ffe_entrypoints.cli.replay_run`, loaded when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("replay")
    def replay_cmd(
        ctx: typer.Context,
        data: Annotated[
            list[Path], typer.Option("--data", help="CSV of bars; repeat for one account.")
        ],
        instrument: Annotated[
            list[str] | None,
            typer.Option("--instrument", help="Symbol per --data (default: file name)."),
        ] = None,
        providers: Annotated[
            str | None, typer.Option("--providers", help="a,b,... (default: enabled ones).")
        ] = None,
        aggregation: Annotated[str | None, typer.Option("--aggregation")] = None,
        start: Annotated[str | None, typer.Option("--from", help="First decision date.")] = None,
        end: Annotated[str | None, typer.Option("--to", help="Last bar date.")] = None,
        weights: Annotated[
            str, typer.Option("--weights", help="equal, or learned (stored weights).")
        ] = "equal",
        approvals: Annotated[
            str, typer.Option("--approvals", help="auto (approve) or skip held decisions.")
        ] = "auto",
        allow_lookahead: Annotated[
            bool,
            typer.Option("--allow-lookahead", help="Replay before a model's training cut-off."),
        ] = False,
        anonymize: Annotated[
            bool,
            typer.Option(
                "--anonymize",
                help="Language models see a renamed instrument, rebased prices, shifted dates.",
            ),
        ] = False,
        walk_forward: Annotated[
            bool,
            typer.Option(
                "--walk-forward",
                help="Store the live gate's report (PBO, deflated Sharpe, out-of-sample return).",
            ),
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Spend without asking.")] = False,
        max_cost: Annotated[
            float | None, typer.Option("--max-cost", help="Abort past this many USD.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
        report: Annotated[
            Path | None, typer.Option("--report", help="Write an HTML report.")
        ] = None,
    ) -> None:
        """Replay the configured decision stack over history: attribution, look-ahead, cost."""
        from ffe_entrypoints.cli.replay_run import execute

        execute(
            ctx,
            data,
            instrument,
            providers,
            aggregation,
            start,
            end,
            weights,
            approvals,
            allow_lookahead,
            yes,
            max_cost,
            as_json,
            report,
            anonymize,
            walk_forward,
        )
