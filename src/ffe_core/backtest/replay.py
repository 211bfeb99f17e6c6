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
rerun from it (they key it by provider, model and a hash of the prompt's inputs), so replaying the same period
twice costs nothing the second time. When nothing looks at the Decision, such a provider is asked
its cached vote from the bar's values (:class:`~ffe_core.domain.context.ReplayedBar`) and the
context is built only for bars whose vote is not cached; a cache held in this process is read
without awaiting, so such a bar runs with no coroutine. The key of a bar holds the memory of the
decisions before it and the account they led to, so each bar's vote is looked up once the bar
before it is decided (the votes of a series cannot be fetched ahead of the loop).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.context_indicators import indicators_at
from ffe_core.backtest.data import Bars, validate_bars
from ffe_core.backtest.replay_book import ReplayBook
from ffe_core.backtest.replay_fast import UNTIMED_START, bar_time, batch_plan, targets_from_actions
from ffe_core.backtest.simulator import FillConfig, FloatArray, RunResult, simulate
from ffe_core.backtest.vote_log import VoteLog, VoteRecorder
from ffe_core.domain.context import DecisionContext, PastDecision, Recalled, ReplayedBar
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.domain.series import BarSeries, SeriesCursor
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.metrics import NullMetrics
from ffe_core.services.decisions import RiskCheck
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.ensemble_batch import BatchDecisions

Int8Array = npt.NDArray[np.int8]
OnDecision = Callable[[int, Decision], Awaitable[None]]
"""Called with the bar index and the (risk-checked) decision, e.g. to persist it."""

_ACTION_CODE = {Action.BUY: 1, Action.SELL: -1, Action.HOLD: 0}
_CODE_ACTION = {code: action for action, code in _ACTION_CODE.items()}
_UNTIMED_START = UNTIMED_START


@dataclass(frozen=True, repr=False)
class ReplayResult:
    """A replayed run: trades and equity as ``simulate`` gives them, plus what was decided."""

    run: RunResult
    actions: Int8Array
    """Ensemble action per bar after the risk check: 1 BUY, -1 SELL, 0 HOLD (or not asked)."""
    targets: Int8Array
    """Target position after each bar's decision (1 long, 0 flat, -1 short)."""
    decisions: int
    """How many decisions were made (bars from ``start`` until the end or the money ran out)."""
    votes: VoteLog | None = None
    """Every provider's vote per bar, when the replay was asked to record them."""

    def __repr__(self) -> str:
        # Short: asyncio.run() formats its main task's result, whose arrays would cost ~10 ms.
        equity = float(self.run.equity[-1]) if self.run.equity.size else float("nan")
        return (
            f"ReplayResult(bars={self.actions.shape[0]}, decisions={self.decisions}, "
            f"trades={len(self.run.trades)}, final_equity={equity:.2f})"
        )


def _checked_volume(bars: Bars) -> FloatArray:
    """Check every rule of :class:`Bar` on the arrays; the volume as the models carry it."""
    validate_bars(bars)
    inside = (bars.low <= bars.open) & (bars.open <= bars.high)
    inside &= (bars.low <= bars.close) & (bars.close <= bars.high)
    bad = np.flatnonzero(~inside)
    if bad.size:
        raise ValidationFailed(f"row {int(bad[0])}: open and close must lie within [low, high]")
    volume = np.nan_to_num(bars.volume, nan=0.0)
    bad = np.flatnonzero(~np.isfinite(volume) | (volume < 0))
    if bad.size:
        raise ValidationFailed(f"row {int(bad[0])}: volume must be a finite number >= 0")
    return volume


def bar_models(bars: Bars, step: timedelta = timedelta(minutes=1)) -> list[Bar]:
    """Bars as domain :class:`Bar` models; untimed bars get ``step`` spacing from 1970.

    Every rule of :class:`Bar` is checked on the arrays at once (a bad row raises
    ValidationFailed naming it), so the models are built without per-bar validation.
    """
    volume = _checked_volume(bars)
    n = len(bars)
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


def bar_timestamps(bars: Bars, step: timedelta = timedelta(minutes=1)) -> FloatArray:
    """``ts.timestamp()`` of each of :func:`bar_models`' bars, from the arrays (the same
    floats: whole microseconds since 1970 divided by 10**6, correctly rounded either way)."""
    if bars.time is not None:
        micros = bars.time.astype("datetime64[us]").astype(np.int64)
    else:
        micros = np.arange(len(bars), dtype=np.int64) * (step // timedelta(microseconds=1))
    return micros.astype(np.float64) / 1e6


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


def _simulated(
    bars: Bars,
    plan: BatchDecisions,
    cfg: FillConfig,
    start: int,
    allow_short: bool,
    clock: ManualClock | None,
    recorder: VoteRecorder | None,
) -> ReplayResult:
    """The fast path without a risk check: targets follow from the actions; simulate fills them."""
    n = len(bars)
    actions = plan.actions.copy()
    actions[:start] = 0
    targets = targets_from_actions(actions, start, allow_short)
    run = simulate(bars, targets, cfg)
    broke = np.flatnonzero(run.equity <= 0.0)
    stop = int(broke[0]) if broke.size else n - 1  # the book stops deciding once broke
    actions[stop + 1 :] = 0
    targets[stop + 1 :] = 0
    if clock is not None:
        clock.advance((bar_time(bars, stop) - clock.now()).total_seconds())
    log = None
    if recorder is not None:
        recorder.asked[start : stop + 1] = True
        recorder.ensemble_action[start : stop + 1] = plan.actions[start : stop + 1]
        recorder.ensemble_confidence[start : stop + 1] = np.round(
            plan.confidences[start : stop + 1], 6
        )
        log = recorder.log()
    return ReplayResult(run, actions, targets, stop + 1 - start, log)


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
    fast: bool | None = None,
    record_votes: bool = False,
) -> ReplayResult:
    """Replay ``ensemble`` (and ``risk``) bar by bar over ``bars`` and fill its decisions.

    ``history`` bars (all of them when None) form each context, as the live service passes
    ``market_data.history_bars``; decisions start at bar ``start``. ``with_indicators=False``
    leaves ``context.indicators`` empty, which is faster and only right for providers that
    compute their own from the bars (the offline quant providers do).

    ``fast`` (see :mod:`~ffe_core.backtest.replay_fast`): None takes the batch path whenever
    it gives exactly the per-bar results; True also with a risk check, learned weights or a
    metrics sink - the caller vouches that the weights stay constant and that the risk check
    only approves or rejects, without memory of the bars it was not shown (it is consulted
    only on bars whose decision would move the target; ``actions`` on the other bars are the
    ensemble's); False always decides bar by bar. Providers without ``vote_batch``, the
    ``judge`` aggregation and ``on_decision`` always use the per-bar path.

    ``record_votes`` keeps every provider's vote per bar in ``ReplayResult.votes`` (for
    :mod:`~ffe_core.backtest.attribution`); it does not change the path taken.
    """
    cfg = config or FillConfig()
    n = len(bars)
    if history is not None and history < 1:
        raise ValueError(f"history must be >= 1 or None, got {history}")
    if not 0 <= start < n:
        raise ValueError(f"start must be in [0, {n}), got {start}")
    recorder = VoteRecorder(list(ensemble.providers), n) if record_votes else None
    plan = await batch_plan(
        bars,
        _checked_volume(bars),
        ensemble,
        history,
        risk=risk,
        on_decision=on_decision,
        fast=fast,
        recorder=recorder,
    )
    if plan is not None and risk is None:
        return _simulated(bars, plan, cfg, start, allow_short, clock, recorder)
    walk = _Walk(bars, instrument, cfg, history, start, allow_short, memory_size, clock)
    walk.with_indicators = with_indicators
    walk.plan, walk.recorder = plan, recorder
    synchronous = ensemble.synchronous()
    # Nothing looks at the Decision: the providers' signals and the tally are enough.
    unobserved = (
        risk is None
        and on_decision is None
        and plan is None
        and isinstance(ensemble.metrics, NullMetrics)
    )
    if synchronous is not None and unobserved:
        # Providers that only read the bars need no context at all.
        from_series = synchronous.from_series
        walk.contexts = not from_series
        steps = walk.steps()
        series, signals_at, h = walk.series, synchronous.signals_at, history or n
        try:
            i = next(steps)
            while True:
                if from_series:  # the window as walk.window(i) gives it
                    at = SeriesCursor(series, i)
                    signals, action, confidence = signals_at(at, i + 1 if i < h else h)
                else:
                    signals, action, confidence = synchronous.signals(walk.context())
                if recorder is not None:
                    recorder.record_signals(i, signals, action, confidence)
                i = steps.send((action, action, confidence))
        except StopIteration:
            pass
        return walk.result()
    signalling = ensemble.signalling() if unobserved and synchronous is None else None
    if signalling is not None:
        # Some provider awaits (e.g. a language model answered from its vote cache): it gets
        # the context and is awaited as decide() awaits it; the others only give signals.
        # With every provider answerable without a context (the series, or a vote cache
        # keyed by the context's values), a context is built only for a bar some cache misses.
        at_bars = signalling.from_series
        if signalling.answers_now:
            # Every such cache is in this process: a bar it answers wholly runs without a
            # coroutine; a bar some cache misses gets its context and those providers' ask.
            for i in walk.steps():
                signals, missing = signalling.signals_now(walk.replayed())
                if missing:
                    outcome = await signalling.completed(walk.context(), signals, missing)
                else:
                    outcome = signalling.tallied(signals)
                signals, action, confidence = outcome
                if recorder is not None:
                    recorder.record_signals(i, signals, action, confidence)
                walk.decided = (action, action, confidence)
            return walk.result()
        for i in walk.steps():
            if at_bars:
                signals, action, confidence = await signalling.signals_at(
                    walk.replayed(), walk.context
                )
            else:
                signals, action, confidence = await signalling.signals(walk.context())
            if recorder is not None:
                recorder.record_signals(i, signals, action, confidence)
            walk.decided = (action, action, confidence)
        return walk.result()
    for i in walk.steps():
        context = walk.context()
        if synchronous is not None:
            decision = synchronous.decide(context)
        else:
            decision = await ensemble.decide(context)
        if recorder is not None:
            recorder.record(i, decision)
        if plan is not None and _ACTION_CODE[decision.action] != plan.actions[i]:
            raise RuntimeError(
                f"bar {i}: the batch votes decided {_CODE_ACTION[int(plan.actions[i])]}, "
                f"the providers' votes {decision.action}: a vote_batch disagrees with vote"
            )
        if risk is not None:
            decision = await risk(decision, context)
        action = decision.action
        if decision.risk is not None and not decision.risk.approved:
            action = Action.HOLD
        walk.decided = (action, decision.action, decision.confidence)
        if on_decision is not None:
            await on_decision(i, decision)
    return walk.result()


Outcome = tuple[Action, Action, float]
"""A bar's outcome: the action taken (HOLD when the risk check rejected), and the decision's
action and confidence as the memory of recent decisions records them."""


class _Walk:
    """The bar-by-bar part of :func:`replay`: fills, targets, memory and contexts.

    :meth:`steps` yields every bar that needs a decision and takes that bar's :data:`Outcome`
    back (through ``send``, or set in :attr:`decided` before the next ``next``), so the
    synchronous and the awaiting drivers share one loop; :meth:`context` builds the current
    bar's context when a driver needs one. Contexts are copies of one template (``model_copy``
    does not validate: every value is built here) with a cursor into the series, where providers
    read indicators computed once. With :attr:`contexts` off (no provider reads one) neither
    contexts nor the memory of recent decisions are kept.
    """

    def __init__(
        self,
        bars: Bars,
        instrument: Instrument,
        cfg: FillConfig,
        history: int | None,
        start: int,
        allow_short: bool,
        memory_size: int,
        clock: ManualClock | None,
    ) -> None:
        self.bars, self.instrument, self.history = bars, instrument, history
        self.start, self.allow_short, self.clock = start, allow_short, clock
        self.n = n = len(bars)
        volume = _checked_volume(bars)
        self.series = BarSeries(
            bars.open, bars.high, bars.low, bars.close, volume, history, bar_timestamps(bars)
        )
        self.book = ReplayBook(bars, cfg)
        self.actions = np.zeros(n, dtype=np.int8)
        self.targets = np.zeros(n, dtype=np.int8)
        self.memory: deque[Recalled] = deque(maxlen=memory_size)
        self._past: dict[int, PastDecision] = {}
        """The memory's decisions as contexts hold them, built once each."""
        self.with_indicators = True
        self.contexts = True
        self.plan: BatchDecisions | None = None
        self.recorder: VoteRecorder | None = None
        self.decided: Outcome | None = None
        self.made = 0
        self.i = -1
        self._models: tuple[Bar, ...] = ()
        self._template: DecisionContext | None = None
        self._held: tuple[Position, Portfolio] | None = None
        self._fills = -1

    def window(self, i: int) -> int:
        """How many bars bar ``i``'s context holds."""
        return i + 1 if self.history is None else min(i + 1, self.history)

    def _account(self) -> tuple[Position, Portfolio]:
        """The current position and portfolio (rebuilt only after a fill)."""
        book, symbol = self.book, self.instrument.symbol
        if self._held is None or book.fills != self._fills:
            portfolio, self._fills = _portfolio(book, symbol), book.fills
            self._held = (portfolio.position(symbol), portfolio)
            self._template = None
        return self._held

    def _current_template(self) -> DecisionContext:
        """A context holding the current account."""
        position, portfolio = self._account()
        if self._template is None:
            models = self._bar_models()
            self._template = DecisionContext.model_construct(
                instrument=self.instrument,
                as_of=models[0].ts,
                bars=models[:1],
                position=position,
                portfolio=portfolio,
            )
        return self._template

    def replayed(self) -> ReplayedBar:
        """The values :meth:`context` builds the current bar's context from."""
        i = self.i
        position, portfolio = self._account()
        return ReplayedBar(
            SeriesCursor(self.series, i),
            self.window(i),
            self.instrument,
            position,
            portfolio,
            tuple(reversed(self.memory)),
            self.with_indicators,
        )

    def context(self) -> DecisionContext:
        """The current bar's context, as the live service would build it (plus the cursor)."""
        i = self.i
        models = self._bar_models()
        window = models[i + 1 - self.window(i) : i + 1]
        template = self._current_template()
        # Built without re-validation: the window ends at this bar by construction, and the
        # fields are the ones build_context() would produce (a test checks both).
        return template.model_copy(
            update={
                "as_of": models[i].ts,
                "bars": window,
                "indicators": indicators_at(self.series, i) if self.with_indicators else {},
                "memory": self._recent(models),
                "series": SeriesCursor(self.series, i),
            }
        )

    def _recent(self, models: tuple[Bar, ...]) -> tuple[PastDecision, ...]:
        """The memory as a context holds it: most recent first, made at its bar's time."""
        past = self._past
        recent: list[PastDecision] = []
        for m in reversed(self.memory):
            built = past.get(m.bar)
            if built is None:
                if len(past) > 4 * (self.memory.maxlen or 1):
                    past.clear()
                built = past[m.bar] = PastDecision.model_construct(
                    created_at=models[m.bar].ts, action=m.action, confidence=m.confidence
                )
            recent.append(built)
        return tuple(recent)

    def _bar_models(self) -> tuple[Bar, ...]:
        if not self._models:
            self._models = tuple(bar_models(self.bars))
        return self._models

    def steps(self) -> Generator[int, Outcome | None, None]:
        book, plan, recorder = self.book, self.plan, self.recorder
        start, clock, memory = self.start, self.clock, self.memory
        actions, targets, bars = self.actions, self.targets, self.bars
        target = 0
        for i in range(self.n):
            self.i = i
            book.open_bar(i)
            if i >= start:
                if clock is not None:
                    clock.advance((bar_time(bars, i) - clock.now()).total_seconds())
                code = 0 if plan is None else int(plan.actions[i])
                if (
                    plan is not None
                    and _target(_CODE_ACTION[code], target, self.allow_short) == target
                ):
                    # The decision cannot move the target: nothing for the risk check to stop.
                    confidence = round(float(plan.confidences[i]), 6)
                    if recorder is not None:
                        recorder.record_plan(i, code, confidence)
                    planned = _CODE_ACTION[code]
                    outcome: Outcome = (planned, planned, confidence)
                else:
                    self.decided = None
                    sent = yield i
                    given = sent if sent is not None else self.decided
                    if given is None:
                        raise RuntimeError(f"bar {i}: no decision was given back")
                    outcome = given
                taken, remembered, confidence = outcome
                self.made += 1
                actions[i] = _ACTION_CODE[taken]
                target = _target(taken, target, self.allow_short)
                if self.contexts:
                    memory.append(Recalled(i, remembered, confidence))
            targets[i] = target
            book.close_bar(i, target)
            if book.broke:
                break

    def result(self) -> ReplayResult:
        log = self.recorder.log() if self.recorder is not None else None
        return ReplayResult(self.book.result(), self.actions, self.targets, self.made, log)
