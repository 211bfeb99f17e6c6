"""Replay the configured decision stack over history: what ``ffe replay`` and a replay job run.

The stack is the one the agent trades with (enabled providers, weights, aggregation, quorum,
risk limits, the execution gate's floor, the approvals policy simulated), replayed on the
backtester's fill model (:mod:`ffe_core.backtest.replay_stack`). Language models are guarded
against look-ahead (:mod:`ffe_core.backtest.lookahead`) and their cost is counted from the vote
cache before anything is spent (:mod:`ffe_core.backtest.replay_cost`). The command line and the
API differ only in where the bars come from and how a spend is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np

from ffe_core.backtest.anonymize import Mask, anonymized
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
from ffe_entrypoints.assembly import Assembly

AGGREGATIONS = ("weighted_majority", "confidence_weighted", "unanimity", "judge")


@dataclass(frozen=True)
class ReplayRequest:
    """What one replay asks for, once its command line or request body is read."""

    sleeves: list[Sleeve]
    weights: Literal["equal", "learned"] = "equal"
    approvals: ApprovalMode = "auto"
    allow_lookahead: bool = False
    yes: bool = False
    max_cost: float | None = None
    interactive: bool = False
    anonymize: bool = False


Confirm = Callable[[SpendMeter, ReplayRequest], None]
"""Shown the dry run's estimate; raises to stop the replay before anything is spent."""


def instrument_for(settings: Settings, symbol: str, label: str = "--instrument") -> Instrument:
    """The configured instrument, or an equity quoted in USD named ``symbol``."""
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
        raise ValidationFailed(f"{label} {symbol!r} is not a valid symbol") from None


def parse_day(text: str | None, label: str) -> np.datetime64 | None:
    """A date or date-time; ValidationFailed naming ``label`` when it is neither."""
    if text is None:
        return None
    try:
        return np.datetime64(text.strip().replace(" ", "T"), "ns")
    except ValueError:
        raise ValidationFailed(f"{label} {text!r} is not a date (YYYY-MM-DD)") from None


def sleeve_of(
    bars: Bars,
    instrument: Instrument,
    start: str | None,
    end: str | None,
    name: str,
    labels: tuple[str, str] = ("--from", "--to"),
) -> Sleeve:
    """``bars`` cut to ``end`` (a date alone includes its whole day), deciding from ``start``."""
    lo, hi = parse_day(start, labels[0]), parse_day(end, labels[1])
    if (lo is not None or hi is not None) and bars.time is None:
        raise ValidationFailed(f"{name}: {'/'.join(labels)} need timestamped bars")
    first = 0
    if hi is not None and bars.time is not None:
        if len(end or "") <= 10:
            hi = hi + np.timedelta64(1, "D") - np.timedelta64(1, "ns")
        bars = bars.slice(0, int(np.searchsorted(bars.time, hi, side="right")))
    if lo is not None and bars.time is not None:
        first = int(np.searchsorted(bars.time, lo))
    if len(bars) == 0 or first >= len(bars):
        raise ValidationFailed(f"{name}: no bars between {labels[0]} and {labels[1]}")
    return Sleeve(instrument, bars, first)


def configured(
    settings: Settings,
    providers: Sequence[str] | None,
    aggregation: str | None,
    labels: tuple[str, str] = ("--providers", "--aggregation"),
) -> Settings:
    """``settings`` with the chosen providers and aggregation applied."""
    update: dict[str, Any] = {}
    if providers is not None:
        names = tuple(dict.fromkeys(n.strip() for n in providers if n.strip()))
        if not names:
            raise ValidationFailed(f"{labels[0]}: give at least one provider name")
        update["providers"] = settings.providers.model_copy(update={"enabled": names})
    if aggregation is not None:
        if aggregation not in AGGREGATIONS:
            raise ValidationFailed(
                f"{labels[1]} {aggregation!r}: choose one of {', '.join(AGGREGATIONS)}"
            )
        update["ensemble"] = settings.ensemble.model_copy(update={"aggregation": aggregation})
    return settings.model_copy(update=update) if update else settings


def _baseline_settings(settings: Settings) -> EnsembleSettings:
    ens = settings.ensemble
    mode = "confidence_weighted" if ens.aggregation == "judge" else ens.aggregation
    size = len(ProvidersSettings().enabled)
    return ens.model_copy(update={"aggregation": mode, "quorum": min(ens.quorum, size)})


def confirm_unattended(estimate: SpendMeter, request: ReplayRequest) -> None:
    """Spend only within ``max_cost`` and only when ``yes`` was given (no one to ask)."""
    if estimate.cost_usd <= 0:
        return
    if request.max_cost is not None and estimate.cost_usd > request.max_cost:
        raise BudgetExceeded(
            f"estimated ${estimate.cost_usd:.4f} exceeds max_cost ${request.max_cost:.2f}; "
            "nothing was spent"
        )
    if not request.yes:
        raise ValidationFailed(
            f"the replay would spend ~${estimate.cost_usd:.4f} on {estimate.calls} uncached "
            "language-model calls: set yes (and max_cost USD to cap it)"
        )


def _masks(sleeves: Sequence[Sleeve]) -> dict[str, Mask]:
    from ffe_core.backtest.replay_fast import bar_time

    return {
        s.instrument.symbol: Mask.of(s.instrument, float(s.bars.close[0]), bar_time(s.bars, 0), i)
        for i, s in enumerate(sleeves)
    }


def first_time(sleeve: Sleeve) -> datetime:
    from ffe_core.backtest.replay_fast import bar_time

    return bar_time(sleeve.bars, sleeve.start)


async def run_replay(
    settings: Settings,
    request: ReplayRequest,
    assembly: Assembly,
    progress: Callable[[int, int], None] | None = None,
    confirm: Confirm = confirm_unattended,
) -> dict[str, Any]:
    """Build the configured stack from the container, guard it, price it, replay it.

    The result has the statistics of ``ffe backtest`` plus ``trades``, ``final_equity``,
    ``decisions``, ``attribution`` and ``cost``; ``_run`` holds the account's run for a report
    and ``_results`` each instrument's replay (both removed before the result is shown).
    """
    from ffe_core.backtest.replay_stack import account_stats, decision_counts
    from ffe_core.backtest.stats import json_ready

    container = assembly.build(settings)
    try:
        providers: dict[str, DecisionProvider] = container.decision_providers()
        judge = container.ensemble().judge if settings.ensemble.aggregation == "judge" else None
        weights: WeightSource = EqualWeights()
        if request.weights == "learned":
            await container.storage().migrate()
            weights = container.weights()
        first = min(first_time(s) for s in request.sleeves)
        guarded = dict(providers) | ({"judge": judge} if judge is not None else {})
        found = contamination(guarded, first)
        if not request.allow_lookahead:
            refuse_lookahead(found)
        if request.anonymize:
            masks = _masks(request.sleeves)
            providers = anonymized(providers, masks)
            if judge is not None:
                judge = anonymized({"judge": judge}, masks)["judge"]

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
            confirm(estimate, request)
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
            anonymized=request.anonymize,
        )
        out["_run"] = (stats, run, market)
        out["_results"] = results
        return out
    finally:
        await assembly.close(container)
