"""What ``ffe replay`` runs: the configured decision stack over history, attribution and cost.

The stack is the one the agent trades with (enabled providers, weights, aggregation, quorum,
risk limits, the execution gate's floor, the approvals policy simulated), replayed on the
backtester's fill model (:mod:`ffe_core.backtest.replay_stack`). Language models are guarded
against look-ahead (:mod:`ffe_core.backtest.lookahead`) and their cost is counted from the vote
cache before anything is spent (:mod:`ffe_core.backtest.replay_cost`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import typer
from rich.console import Console

from ffe_core.backtest.data import Bars
from ffe_core.backtest.lookahead import contamination, refuse_lookahead
from ffe_core.backtest.replay_cost import (
    BudgetExceeded,
    CacheOnly,
    Metered,
    SpendMeter,
    paid,
    wrapped,
)
from ffe_core.backtest.replay_stack import ApprovalMode, Sleeve, SleeveResult, replay_sleeve
from ffe_core.config import EnsembleSettings, ProvidersSettings, Settings
from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.ports.providers import DecisionProvider, EqualWeights, WeightSource
from ffe_core.services.ensemble import Ensemble
from ffe_entrypoints.cli.state import state

console = Console(stderr=True)

AGGREGATIONS = ("weighted_majority", "confidence_weighted", "unanimity", "judge")


def load_bars(ctx: typer.Context, path: Path) -> Bars:
    """The one place ``ffe replay`` reads a data file: the loader ``ffe backtest`` uses."""
    from ffe_entrypoints.cli.commands_backtest import load_data

    bars: Bars = load_data(ctx, path, None)
    return bars


def _instrument(settings: Settings, symbol: str) -> Instrument:
    known = settings.instrument(symbol)
    if known is not None:
        return known
    try:
        return Instrument(
            symbol=symbol.upper(),
            asset_class=AssetClass.EQUITY,
            base=symbol.upper()[:16],
            quote="USD",
            size_increment="0.00000001",
        )
    except ValueError:
        raise ValidationFailed(f"--instrument {symbol!r} is not a valid symbol") from None


def _day(text: str | None, flag: str) -> np.datetime64 | None:
    if text is None:
        return None
    try:
        return np.datetime64(text.strip().replace(" ", "T"), "ns")
    except ValueError:
        raise ValidationFailed(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None


def _sleeve(
    ctx: typer.Context,
    settings: Settings,
    path: Path,
    symbol: str,
    start: str | None,
    end: str | None,
) -> Sleeve:
    bars = load_bars(ctx, path)
    lo, hi = _day(start, "--from"), _day(end, "--to")
    if (lo is not None or hi is not None) and bars.time is None:
        raise ValidationFailed(f"{path.name}: --from/--to need timestamped bars")
    first = 0
    if hi is not None and bars.time is not None:
        if len(end or "") <= 10:  # a date alone includes that whole day
            hi = hi + np.timedelta64(1, "D") - np.timedelta64(1, "ns")
        bars = bars.slice(0, int(np.searchsorted(bars.time, hi, side="right")))
    if lo is not None and bars.time is not None:
        first = int(np.searchsorted(bars.time, lo))
    if len(bars) == 0 or first >= len(bars):
        raise ValidationFailed(f"{path.name}: no bars between --from and --to")
    return Sleeve(_instrument(settings, symbol), bars, first)


def _symbols(data: Sequence[Path], instruments: Sequence[str] | None) -> list[str]:
    given = list(instruments or [])
    if not given:
        return [p.stem.upper() for p in data]
    if len(given) != len(data):
        raise ValidationFailed(
            f"give one --instrument per --data file ({len(data)} files, {len(given)} instruments)"
        )
    return given


def _configured(settings: Settings, providers: str | None, aggregation: str | None) -> Settings:
    """``settings`` with the ``--providers`` and ``--aggregation`` overrides applied."""
    update: dict[str, Any] = {}
    if providers is not None:
        names = tuple(dict.fromkeys(n.strip() for n in providers.split(",") if n.strip()))
        if not names:
            raise ValidationFailed("--providers: give at least one provider name")
        update["providers"] = settings.providers.model_copy(update={"enabled": names})
    if aggregation is not None:
        if aggregation not in AGGREGATIONS:
            raise ValidationFailed(
                f"--aggregation {aggregation!r}: choose one of {', '.join(AGGREGATIONS)}"
            )
        update["ensemble"] = settings.ensemble.model_copy(update={"aggregation": aggregation})
    return settings.model_copy(update=update) if update else settings


@dataclass(frozen=True)
class ReplayRequest:
    """What one ``ffe replay`` asks for, once the command line is read."""

    sleeves: list[Sleeve]
    weights: Literal["equal", "learned"] = "equal"
    approvals: ApprovalMode = "auto"
    allow_lookahead: bool = False
    yes: bool = False
    max_cost: float | None = None
    interactive: bool = False


def _baseline_settings(settings: Settings) -> EnsembleSettings:
    ens = settings.ensemble
    mode = "confidence_weighted" if ens.aggregation == "judge" else ens.aggregation
    size = len(ProvidersSettings().enabled)
    return ens.model_copy(update={"aggregation": mode, "quorum": min(ens.quorum, size)})


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


async def run_replay(
    settings: Settings,
    request: ReplayRequest,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Build the configured stack from the container, guard it, price it, replay it."""
    from ffe_core.backtest.replay_stack import account_stats, decision_counts
    from ffe_core.backtest.stats import json_ready
    from ffe_entrypoints.container import build_container, shutdown

    container = build_container(settings)
    try:
        providers: dict[str, DecisionProvider] = container.decision_providers()
        judge = container.ensemble().judge if settings.ensemble.aggregation == "judge" else None
        weights: WeightSource = EqualWeights()
        if request.weights == "learned":
            await container.storage().migrate()
            weights = container.weights()
        first = min(_first_time(s) for s in request.sleeves)
        guarded = dict(providers) | ({"judge": judge} if judge is not None else {})
        found = contamination(guarded, first)
        if not request.allow_lookahead:
            refuse_lookahead(found)

        def ensemble(meter: SpendMeter, kind: type[CacheOnly] | type[Metered]) -> Ensemble:
            judged = judge
            if judged is not None:
                judged = next(iter(wrapped({"judge": judged}, meter, kind).values()))
            return Ensemble(
                wrapped(providers, meter, kind),
                settings.ensemble,
                provider_timeout=settings.providers.timeout_seconds,
                weights=weights,
                judge=judged,
            )

        cash = float(settings.trading.initial_cash) / len(request.sleeves)
        estimate = None
        if paid(guarded):
            estimate = SpendMeter()
            dry = ensemble(estimate, CacheOnly)
            for sleeve in request.sleeves:
                await replay_sleeve(sleeve, dry, settings, cash, approvals=request.approvals)
            _confirm(estimate, request)
        build = container.build()
        baseline = Ensemble(
            {
                name: build.named("decision_providers", name, cache=None)
                for name in ProvidersSettings().enabled
            },
            _baseline_settings(settings),
        )
        meter = SpendMeter(max_cost_usd=request.max_cost)
        real = ensemble(meter, Metered)
        total = sum(len(s.bars) - s.start for s in request.sleeves)
        done = 0

        def step(k: int) -> None:
            nonlocal done
            done += k
            if progress is not None:
                progress(done, total)

        results: list[SleeveResult] = []
        for sleeve in request.sleeves:
            results.append(
                await replay_sleeve(
                    sleeve,
                    real,
                    settings,
                    cash,
                    approvals=request.approvals,
                    meter=meter,
                    baseline=baseline,
                    progress=step if progress is not None else None,
                )
            )
        stats, run, market = account_stats(results)
        out = json_ready(stats)
        out.update(
            trades=len(run.trades),
            final_equity=float(run.equity[-1]),
            decisions=decision_counts(results),
            attribution={r.sleeve.instrument.symbol: r.attribution for r in results},
            cost=meter.as_json() | {"estimate": None if estimate is None else estimate.as_json()},
            contaminated=bool(found),
            lookahead=[c.as_json() for c in found],
            providers=list(providers),
            aggregation=settings.ensemble.aggregation,
            weights=request.weights,
            approvals=request.approvals,
            instruments=[s.instrument.symbol for s in request.sleeves],
        )
        out["_run"] = (stats, run, market)
        return out
    finally:
        await shutdown(container)


def _first_time(sleeve: Sleeve) -> datetime:
    from ffe_core.backtest.replay_fast import bar_time

    return bar_time(sleeve.bars, sleeve.start)


def _write_report(path: Path, out: dict[str, Any]) -> None:
    from ffe_core.backtest.report import render_html

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
) -> None:
    """What ``ffe replay`` does once its command line is read."""
    if weights not in ("equal", "learned"):
        raise ValidationFailed("--weights: equal or learned")
    if approvals not in ("auto", "skip"):
        raise ValidationFailed("--approvals: auto or skip")
    if max_cost is not None and max_cost < 0:
        raise ValidationFailed("--max-cost must be >= 0")
    settings = _configured(state(ctx).settings(), providers, aggregation)
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
    )
    out = _run_with_progress(settings, request, quiet=as_json or not console.is_terminal)
    if report is not None:
        _write_report(report, out)
    out.pop("_run")
    if as_json:
        typer.echo(json.dumps(out, indent=2, default=str))
    else:
        _print_summary(out)


def _run_with_progress(settings: Settings, request: ReplayRequest, quiet: bool) -> dict[str, Any]:
    from ffe_entrypoints.cli.commands_backtest import _progress

    with _progress("replay", quiet) as progress:
        return asyncio.run(run_replay(settings, request, progress))
