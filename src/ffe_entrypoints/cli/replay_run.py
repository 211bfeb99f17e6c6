"""What ``ffe replay`` does on the command line: read the data files, ask before spending,
show progress, print or write the result. The replay itself is
:func:`ffe_entrypoints.services.replay.run_replay`, shared with the API's replay jobs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ffe_core.backtest.data import Bars
from ffe_core.backtest.replay_cost import BudgetExceeded, SpendMeter
from ffe_core.backtest.replay_stack import Sleeve
from ffe_core.config import Settings
from ffe_core.domain.errors import ValidationFailed
from ffe_entrypoints.cli.state import state
from ffe_entrypoints.services.live_gate import check_gate_stack, store_gate
from ffe_entrypoints.services.replay import (
    ReplayRequest,
    configured,
    instrument_for,
    run_replay,
    sleeve_of,
)

console = Console(stderr=True)


def load_bars(ctx: typer.Context, path: Path) -> Bars:
    """The one place ``ffe replay`` reads a data file: the loader ``ffe backtest`` uses."""
    from ffe_entrypoints.cli.commands_backtest import load_data

    bars: Bars = load_data(ctx, path, None)
    return bars


def _sleeve(
    ctx: typer.Context,
    settings: Settings,
    path: Path,
    symbol: str,
    start: str | None,
    end: str | None,
) -> Sleeve:
    return sleeve_of(load_bars(ctx, path), instrument_for(settings, symbol), start, end, path.name)


def _symbols(data: Sequence[Path], instruments: Sequence[str] | None) -> list[str]:
    given = list(instruments or [])
    if not given:
        return [p.stem.upper() for p in data]
    if len(given) != len(data):
        raise ValidationFailed(
            f"give one --instrument per --data file ({len(data)} files, {len(given)} instruments)"
        )
    return given


def _confirm(estimate: SpendMeter, request: ReplayRequest) -> None:
    """Say what the run would spend; stop unless it is within budget and confirmed."""
    spent = {n: s for n, s in estimate.by_provider.items() if s.calls}
    if not spent:
        return
    parts = ", ".join(f"{n} {s.calls} calls ~${s.cost_usd:.4f}" for n, s in spent.items())
    console.print(
        f"{estimate.calls} uncached language-model calls, estimated ${estimate.cost_usd:.4f} "
        f"({parts})"
    )
    if estimate.cost_usd <= 0:
        return
    if request.max_cost is not None and estimate.cost_usd > request.max_cost:
        raise BudgetExceeded(
            f"estimated ${estimate.cost_usd:.4f} exceeds --max-cost ${request.max_cost:.2f}; "
            "nothing was spent"
        )
    if request.yes:
        return
    if not request.interactive:
        raise ValidationFailed(
            f"the replay would spend ~${estimate.cost_usd:.4f}: pass --yes to confirm "
            "(and --max-cost USD to cap it)"
        )
    if not typer.confirm("Spend it?", err=True):
        raise typer.Abort()


def _write_report(path: Path, out: dict[str, Any]) -> None:
    from ffe_entrypoints.reports.html import render_html

    stats, run, market = out["_run"]
    title = f"ffe replay: {path.stem}"
    if out["contaminated"]:
        title += " - CONTAMINATED (look-ahead allowed)"
    path.write_text(render_html(run, market, stats, title=title))


def _print_summary(out: dict[str, Any]) -> None:
    from rich.table import Table

    if out["contaminated"]:
        console.print("[bold red]CONTAMINATED[/]: a language model may remember this period")
    table = Table("", "return %", "sharpe", "max dd %", "trades", "hit rate", "brier", "overruled")
    for symbol, att in out["attribution"].items():
        e = att["ensemble"]
        table.add_row(
            f"{symbol} ensemble",
            *(str(e[k]) for k in ("return_pct", "sharpe", "max_drawdown_pct", "trades")),
            str(e["hit_rate"]),
            str(e["brier"]),
            "",
        )
        for name, p in att["providers"].items():
            table.add_row(
                f"  {name} alone",
                *(str(p[k]) for k in ("return_pct", "sharpe", "max_drawdown_pct", "trades")),
                str(p["hit_rate"]),
                str(p["brier"]),
                f"{p['overruled']} ({p['overruled_earned_pct']:+.2f}%)",
            )
        for label in ("buy_and_hold", "quant_baseline"):
            b = att[label]
            if b is not None:
                table.add_row(
                    f"  {label}",
                    *(str(b[k]) for k in ("return_pct", "sharpe", "max_drawdown_pct", "trades")),
                    "",
                    "",
                    "",
                )
    Console().print(table)
    gate = out.get("live_gate")
    if gate is not None:
        verdict = (
            "[green]passes[/]"
            if gate["passed"]
            else "[red]fails[/]: " + "; ".join(gate["failures"])
        )
        Console().print(f"live gate report stored at {gate['path']}: {verdict}")
    cost = out["cost"]
    Console().print(
        f"final equity {out['final_equity']:,.2f}  decisions {out['decisions']}  "
        f"LLM calls {cost['calls']} (cached {cost['cached']}) ${cost['cost_usd']:.4f}"
    )


def execute(
    ctx: typer.Context,
    data: list[Path],
    instrument: list[str] | None,
    providers: str | None,
    aggregation: str | None,
    start: str | None,
    end: str | None,
    weights: str,
    approvals: str,
    allow_lookahead: bool,
    yes: bool,
    max_cost: float | None,
    as_json: bool,
    report: Path | None,
    anonymize: bool = False,
    walk_forward: bool = False,
) -> None:
    """What ``ffe replay`` does once its command line is read."""
    if weights not in ("equal", "learned"):
        raise ValidationFailed("--weights: equal or learned")
    if approvals not in ("auto", "skip"):
        raise ValidationFailed("--approvals: auto or skip")
    if max_cost is not None and max_cost < 0:
        raise ValidationFailed("--max-cost must be >= 0")
    names = None if providers is None else providers.split(",")
    settings = configured(state(ctx).settings(), names, aggregation)
    if walk_forward:
        check_gate_stack(state(ctx).settings(), settings, "--walk-forward")
    symbols = _symbols(data, instrument)
    sleeves = [_sleeve(ctx, settings, p, s, start, end) for p, s in zip(data, symbols, strict=True)]
    if len({s.instrument.symbol for s in sleeves}) != len(sleeves):
        raise ValidationFailed("each --data file needs its own instrument")
    request = ReplayRequest(
        sleeves,
        weights="learned" if weights == "learned" else "equal",
        approvals="skip" if approvals == "skip" else "auto",
        allow_lookahead=allow_lookahead,
        yes=yes,
        max_cost=max_cost,
        interactive=sys.stdin.isatty(),
        anonymize=anonymize,
    )
    out = _run_with_progress(settings, request, quiet=as_json or not console.is_terminal)
    if report is not None:
        _write_report(report, out)
    out.pop("_run")
    results = out.pop("_results")
    if walk_forward:
        out["live_gate"] = store_gate(settings, results, contaminated=out["contaminated"])
    if as_json:
        typer.echo(json.dumps(out, indent=2, default=str))
    else:
        _print_summary(out)


def _run_with_progress(settings: Settings, request: ReplayRequest, quiet: bool) -> dict[str, Any]:
    from ffe_entrypoints.assembly import Assembly, shutdown
    from ffe_entrypoints.cli.commands_backtest import _progress
    from ffe_entrypoints.container import build_container

    assembly = Assembly(build_container, shutdown)
    with _progress("replay", quiet) as progress:
        return asyncio.run(run_replay(settings, request, assembly, progress, confirm=_confirm))
