"""Event-driven replay of the live decision stack over historical bars.

At each bar's close the replay builds the context a live decision would get (the last
``history`` bars up to and including this one, never a later bar; the indicators; the current
position and portfolio; the memory of recent decisions), asks the :class:`Ensemble` - the same
providers, weights and aggregation that trade live - applies the optional risk check, and turns
the decision into a target position: BUY is long, SELL is flat (or short with
``allow_short``), HOLD and rejected decisions keep the current target. Targets are filled by
:class:`~ffe_core.backtest.replay_book.ReplayBook` with the compiled simulator's rules
(:mod:`ffe_core.backtest.fills`), so the :class:`RunResult` compares one for one with
:func:`~ffe_core.backtest.simulator.simulate` and feeds :func:`~ffe_core.backtest.stats.compute_stats`.

Time is simulated: a decision is stamped with its bar's timestamp and an optional
:class:`ManualClock` is moved there before it is made. The replay only sees providers through
the :class:`DecisionProvider` port; language-model providers built with a vote cache answer a
rerun from it (they key it by provider, model and prompt hash), so replaying the same period
twice costs nothing the second time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars, validate_bars
from ffe_core.backtest.replay_book import ReplayBook
from ffe_core.backtest.simulator import FillConfig, RunResult
from ffe_core.domain.context import DecisionContext, PastDecision
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.ports.clock import ManualClock
from ffe_core.services.context import compute_indicators
from ffe_core.services.decisions import RiskCheck
from ffe_core.services.ensemble import Ensemble

Int8Array = npt.NDArray[np.int8]
OnDecision = Callable[[int, Decision], Awaitable[None]]
"""Called with the bar index and the (risk-checked) decision, e.g. to persist it."""

_ACTION_CODE = {Action.BUY: 1, Action.SELL: -1, Action.HOLD: 0}
_UNTIMED_START = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReplayResult:
    """A replayed run: trades and equity as ``simulate`` gives them, plus what was decided."""

    run: RunResult
    actions: Int8Array
    """Ensemble action per bar after the risk check: 1 BUY, -1 SELL, 0 HOLD (or not asked)."""
    targets: Int8Array
    """Target position after each bar's decision (1 long, 0 flat, -1 short)."""
    decisions: int
    """How many decisions were made (bars from ``start`` until the end or the money ran out)."""


def bar_models(bars: Bars, step: timedelta = timedelta(minutes=1)) -> list[Bar]:
    """Bars as domain :class:`Bar` models; untimed bars get ``step`` spacing from 1970.

    Every rule of :class:`Bar` is checked on the arrays at once (a bad row raises
    ValidationFailed naming it), so the models are built without per-bar validation.
    """
    validate_bars(bars)
    n = len(bars)
    inside = (bars.low <= bars.open) & (bars.open <= bars.high)
    inside &= (bars.low <= bars.close) & (bars.close <= bars.high)
    bad = np.flatnonzero(~inside)
    if bad.size:
        raise ValidationFailed(f"row {int(bad[0])}: open and close must lie within [low, high]")
    volume = np.nan_to_num(bars.volume, nan=0.0)
    bad = np.flatnonzero(~np.isfinite(volume) | (volume < 0))
    if bad.size:
        raise ValidationFailed(f"row {int(bad[0])}: volume must be a finite number >= 0")
    if bars.time is not None:
        micros = bars.time.astype("datetime64[us]").astype(np.int64).tolist()
        times = [_UNTIMED_START + timedelta(microseconds=m) for m in micros]
    else:
        times = [_UNTIMED_START + step * i for i in range(n)]
    o, h, lo, c, v = (a.tolist() for a in (bars.open, bars.high, bars.low, bars.close, volume))
    build = Bar.model_construct
    return [
        build(ts=times[i], open=o[i], high=h[i], low=lo[i], close=c[i], volume=v[i])
        for i in range(n)
    ]


def _portfolio(book: ReplayBook, symbol: str) -> Portfolio:
    """The account the providers see: cash net of the position's cost, and the position."""
    if book.pos == 0.0:
        return Portfolio(cash=Decimal(repr(book.cash)))
    qty, avg = Decimal(repr(book.pos)), Decimal(repr(book.epx))
    position = Position(instrument=symbol, quantity=qty, average_price=avg)
    return Portfolio(cash=Decimal(repr(book.cash)) - qty * avg, positions={symbol: position})


def _target(action: Action, current: int, allow_short: bool) -> int:
    if action is Action.BUY:
        return 1
    if action is Action.SELL:
        return -1 if allow_short else 0
    return current


async def replay(
    bars: Bars,
    instrument: Instrument,
    ensemble: Ensemble,
    config: FillConfig | None = None,
    *,
    risk: RiskCheck | None = None,
    history: int | None = 200,
    start: int = 0,
    allow_short: bool = False,
    with_indicators: bool = True,
    memory_size: int = 5,
    clock: ManualClock | None = None,
    on_decision: OnDecision | None = None,
) -> ReplayResult:
    """Replay ``ensemble`` (and ``risk``) bar by bar over ``bars`` and fill its decisions.

    ``history`` bars (all of them when None) form each context, as the live service passes
    ``market_data.history_bars``; decisions start at bar ``start``. ``with_indicators=False``
    leaves ``context.indicators`` empty, which is faster and only right for providers that
    compute their own from the bars (the offline quant providers do).
    """
    cfg = config or FillConfig()
    n = len(bars)
    if history is not None and history < 1:
        raise ValueError(f"history must be >= 1 or None, got {history}")
    if not 0 <= start < n:
        raise ValueError(f"start must be in [0, {n}), got {start}")
    models = tuple(bar_models(bars))
    book = ReplayBook(bars, cfg)
    actions = np.zeros(n, dtype=np.int8)
    targets = np.zeros(n, dtype=np.int8)
    memory: deque[PastDecision] = deque(maxlen=memory_size)
    symbol = instrument.symbol
    portfolio = _portfolio(book, symbol)
    seen_fills = book.fills
    target = 0
    made = 0
    for i in range(n):
        book.open_bar(i)
        if i >= start:
            if book.fills != seen_fills:
                portfolio, seen_fills = _portfolio(book, symbol), book.fills
            lo = 0 if history is None else max(0, i + 1 - history)
            window = models[lo : i + 1]
            as_of = window[-1].ts
            if clock is not None:
                clock.advance((as_of - clock.now()).total_seconds())
            # Built without re-validation: the window ends at this bar by construction, and
            # the fields are the ones build_context() would produce (a test checks both).
            context = DecisionContext.model_construct(
                instrument=instrument,
                as_of=as_of,
                bars=window,
                indicators=compute_indicators(window) if with_indicators else {},
                position=portfolio.position(symbol),
                portfolio=portfolio,
                memory=tuple(reversed(memory)),
            )
            decision = await ensemble.decide(context)
            if risk is not None:
                decision = await risk(decision, context)
            made += 1
            action = decision.action
            if decision.risk is not None and not decision.risk.approved:
                action = Action.HOLD
            actions[i] = _ACTION_CODE[action]
            target = _target(action, target, allow_short)
            memory.append(
                PastDecision(
                    created_at=decision.created_at,
                    action=decision.action,
                    confidence=decision.confidence,
                )
            )
            if on_decision is not None:
                await on_decision(i, decision)
        targets[i] = target
        book.close_bar(i, target)
        if book.broke:
            break
    return ReplayResult(book.result(), actions, targets, made)
