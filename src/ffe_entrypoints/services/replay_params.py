"""What a replay job may ask for, checked when it is submitted (400 naming the parameter).

A replay job passing these checks fails later only on what the bars or the providers decide:
a look-ahead refusal (its first bar falls before a model's training cut-off), a spend that
was not confirmed, or (``walk_forward``) too few decided bars after ``start``; all are known
only once the bars are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ffe_core.config import Settings
from ffe_core.domain.errors import ValidationFailed
from ffe_entrypoints.services.backtest_params import check_work
from ffe_entrypoints.services.live_gate import MIN_DECIDED_BARS, check_gate_stack
from ffe_entrypoints.services.replay import configured, parse_day

if TYPE_CHECKING:
    from ffe_entrypoints.services.backtest_models import BacktestRequest


def replay_symbols(request: BacktestRequest) -> list[str]:
    """The instruments a replay runs on one account (``instrument`` when none is listed)."""
    return list(request.instruments) or [request.instrument]


def checked_replay(request: BacktestRequest, settings: Settings, known: set[str]) -> None:
    """Raise ValidationFailed naming the first parameter a replay job cannot run with."""
    symbols = replay_symbols(request)
    for i, symbol in enumerate(symbols):
        if settings.instrument(symbol) is None:
            raise ValidationFailed(f"instruments[{i}]: unknown instrument {symbol!r}")
    if len(set(symbols)) != len(symbols):
        raise ValidationFailed("instruments: each instrument once")
    if request.providers is not None:
        for i, name in enumerate(request.providers):
            if name not in known:
                names = ", ".join(sorted(known)) or "none"
                raise ValidationFailed(
                    f"providers[{i}]: unknown provider {name!r} (known: {names})"
                )
    configured(settings, request.providers, request.aggregation, ("providers", "aggregation"))
    lo, hi = parse_day(request.start, "start"), parse_day(request.end, "end")
    if lo is not None and hi is not None and hi < lo:
        raise ValidationFailed(f"end {request.end!r} is before start {request.start!r}")
    check_work(request.bars * len(symbols), 1, settings.backtests.max_work)
    if request.walk_forward:
        chosen = configured(
            settings, request.providers, request.aggregation, ("providers", "aggregation")
        )
        check_gate_stack(settings, chosen, "walk_forward")
        if request.bars < MIN_DECIDED_BARS:
            raise ValidationFailed(
                f"bars: a walk-forward report needs at least {MIN_DECIDED_BARS} bars "
                f"(got {request.bars})"
            )
