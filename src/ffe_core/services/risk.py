"""The risk manager: every decision passes it before anything is traded.

It sizes entries (``risk_sizing``), attaches a stop-loss and take-profit to each, and checks the
limits of ``RiskSettings``: an entry that would exceed one is resized down to fit or rejected with
the figures; a trade that reduces or closes a position is never blocked by an exposure limit, a
kill switch or a daily loss. Pure: the caller persists ``RiskManager.state`` (JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.config import RiskSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision, RiskAssessment
from ffe_core.domain.market import Bar, UtcDatetime
from ffe_core.domain.portfolio import Portfolio
from ffe_core.drawdown import drawdown
from ffe_core.ports.control import KillSwitchState
from ffe_core.services.risk_limits import Book, entry_limits, fit_quantity
from ffe_core.services.risk_metrics import (
    ValueAtRisk,
    VarMethod,
    aligned_returns,
    closes_by_time,
    correlation,
    value_at_risk,
)
from ffe_core.services.risk_sizing import (
    Edge,
    Levels,
    atr_estimate,
    dec,
    fixed_fractional_size,
    kelly_fraction,
    kelly_size,
    on_side,
    protective_levels,
    volatility_target_size,
)

ZERO = Decimal(0)
EdgeSource = Callable[[Decision, DecisionContext], Edge | None]
"""Estimates win rate and payoff for Kelly sizing (e.g. from provider track records)."""


TRIPPED_BY = "risk manager (max_drawdown)"
RESETS_KEPT = 20
"""How many kill-switch resets ``RiskState.resets`` keeps (the full trail is the audit log)."""


class KillSwitch(BaseModel):
    """Once tripped, every new entry is rejected until a person resets it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    tripped: bool = False
    reason: str | None = None
    at: UtcDatetime | None = None
    tripped_by: str | None = None
    reset_by: str | None = None
    reset_at: UtcDatetime | None = None


class KillSwitchReset(BaseModel):
    """A person's reset of a tripped kill switch: who, when, and the trip it cleared (which
    names it: a trip is cleared only by a reset naming its time and reason)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    by: str
    at: UtcDatetime
    tripped_reason: str | None = None
    tripped_at: UtcDatetime | None = None


class RiskState(BaseModel):
    """What the risk manager remembers between decisions; stored by the agent as JSON."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    peak_equity: Decimal | None = None
    last_equity: Decimal | None = None
    day: date | None = None
    start_of_day_equity: Decimal | None = None
    kill_switch: KillSwitch = Field(default_factory=KillSwitch)
    resets: tuple[KillSwitchReset, ...] = ()  # the latest RESETS_KEPT, oldest first

    @property
    def drawdown(self) -> Decimal:
        """Fractional fall of the last equity from its peak (0 at a new high)."""
        peak, last = self.peak_equity, self.last_equity
        if peak is None or last is None or peak <= 0:
            return ZERO
        return max(ZERO, drawdown(last, peak))


@dataclass(frozen=True, slots=True)
class _Verdict:
    approved: bool
    reason: str
    size: Decimal
    levels: Levels | None = None


class RiskManager:
    """Sizes and limits decisions; ``await manager(decision, context)`` is a ``RiskCheck``.

    The returned decision carries ``risk`` and, as ``suggested_size``, the unsigned quantity to
    trade (the side comes from ``action``; 0 when there is nothing to do or it was rejected).
    A BUY while short (SELL while long) is an exit: it closes the position, or reduces it by the
    decision's own ``suggested_size`` when that is smaller; it never flips the position.
    Sizing gives the position an entry should leave, so a repeated signal does not pyramid.
    """

    def __init__(
        self,
        settings: RiskSettings,
        state: RiskState | None = None,
        *,
        fee_rate: Decimal = ZERO,
        edge: EdgeSource | None = None,
    ) -> None:
        """``fee_rate``: commission + slippage + half spread as a fraction of notional, reserved
        so that limits still hold on the equity left after paying them."""
        self.settings = settings
        self.state = state or RiskState()
        self.fee_rate = fee_rate
        self.edge = edge
        self._closes: dict[str, dict[datetime, float]] = {}

    # --- market observations and account state -------------------------------------------

    def observe(self, symbol: str, bars: Sequence[Bar]) -> None:
        """Remember ``symbol``'s latest bars: marks for equity, returns for correlation and VaR."""
        if bars:
            keep = self.settings.correlation_lookback + 1
            self._closes[symbol] = closes_by_time(bars[-keep:])

    def marks(self) -> dict[str, Decimal]:
        """The last observed close of every instrument seen."""
        return {s: dec(c[max(c)]) for s, c in self._closes.items() if c}

    def update_equity(self, equity: Decimal, now: datetime) -> bool:
        """Record ``equity`` at ``now``: rolls the trading day (UTC), tracks the peak, and trips
        the kill switch when drawdown from the peak reaches ``max_drawdown``. True if it tripped now."""
        s = self.state
        day = now.astimezone(UTC).date() if now.tzinfo else now.date()
        peak = equity if s.peak_equity is None else max(s.peak_equity, equity)
        update: dict[str, object] = {"peak_equity": peak, "last_equity": equity}
        if s.day != day or s.start_of_day_equity is None:
            update |= {"day": day, "start_of_day_equity": equity}
        limit = dec(self.settings.max_drawdown)
        fall = drawdown(equity, peak) if equity > 0 else Decimal(1)  # peak >= equity > 0
        tripped_now = fall >= limit and not s.kill_switch.tripped
        if tripped_now:
            reason = (
                f"drawdown {fall:.2%} from peak {peak:,.2f} to {equity:,.2f} "
                f"reached max_drawdown {limit:.2%}"
            )
            update["kill_switch"] = KillSwitch(
                tripped=True, reason=reason, at=now, tripped_by=TRIPPED_BY
            )
        self.state = s.model_copy(update=update)
        return tripped_now

    def kill_switch(self) -> KillSwitchState:
        """The kill switch as the agent and the control plane report it (``EquityWatch``)."""
        ks = self.state.kill_switch
        return KillSwitchState(
            tripped=ks.tripped,
            reason=ks.reason,
            at=ks.at,
            tripped_by=ks.tripped_by,
            reset_by=ks.reset_by,
            reset_at=ks.reset_at,
        )

    def drawdown(self) -> Decimal:
        """Fall of the last recorded equity from its peak (``EquityWatch``; 0..1)."""
        return self.state.drawdown

    def reset_kill_switch(self, by: str, now: datetime) -> None:
        """Re-allow entries; the drawdown is measured afresh from the current equity. The reset
        is recorded in ``state.resets``; a no-op when the switch is not tripped."""
        s = self.state
        ks = s.kill_switch
        if not ks.tripped:
            return
        record = KillSwitchReset(by=by, at=now, tripped_reason=ks.reason, tripped_at=ks.at)
        self.state = s.model_copy(
            update={
                "kill_switch": KillSwitch(reset_by=by, reset_at=now),
                "peak_equity": s.last_equity,
                "resets": (*s.resets, record)[-RESETS_KEPT:],
            }
        )

    def var(
        self, portfolio: Portfolio, confidence: float = 0.95, method: VarMethod = "historical"
    ) -> ValueAtRisk:
        """One-bar VaR/CVaR of ``portfolio`` over the observed bars its positions share
        (at most ``correlation_lookback``); raises ValueError when a position has none."""
        marks = self.marks()
        values = {
            s: p.market_value(marks.get(s, p.average_price)) for s, p in portfolio.positions.items()
        }
        held = [sym for sym, v in values.items() if v != 0]
        missing = [sym for sym in held if sym not in self._closes]
        if missing:
            raise ValueError(f"no bars observed for {', '.join(missing)}")
        aligned = aligned_returns(
            [self._closes[sym] for sym in held], self.settings.correlation_lookback
        )
        returns = {sym: aligned[:, i] for i, sym in enumerate(held)}
        return value_at_risk(values, returns, confidence, method)

    # --- the check ---------------------------------------------------------------------------

    async def __call__(self, decision: Decision, context: DecisionContext) -> Decision:
        return self.assess(decision, context)

    def assess(self, decision: Decision, context: DecisionContext) -> Decision:
        """The decision with the risk verdict, final size and protective levels set."""
        symbol = context.instrument.symbol
        self.observe(symbol, context.bars)
        price = decision.reference_price or dec(context.last_price)
        marks = self.marks() | {symbol: price}
        book = Book.of(context.portfolio, marks, symbol, price, self.fee_rate)
        self.update_equity(book.equity, context.as_of)
        checks: dict[str, str] = {"equity": f"{book.equity:,.2f}"}
        verdict = self._verdict(decision, context, book, checks)
        update: dict[str, object] = {
            "risk": RiskAssessment(
                approved=verdict.approved,
                reason=verdict.reason,
                size=verdict.size if verdict.approved else None,
                notional=verdict.size * price if verdict.approved else None,
                checks=checks,
            ),
            "suggested_size": verdict.size if verdict.approved else ZERO,
            "reference_price": price,
        }
        if verdict.levels is not None:
            update |= {
                "stop_loss": verdict.levels.stop_loss,
                "take_profit": verdict.levels.take_profit,
            }
        elif decision.action is not Action.HOLD:  # keep the decision valid against ``price``
            sign = 1 if decision.action is Action.BUY else -1
            if not on_side(sign, price, decision.stop_loss, target=False):
                update["stop_loss"] = None
            if not on_side(sign, price, decision.take_profit, target=True):
                update["take_profit"] = None
        return decision.model_copy(update=update)

    def _verdict(
        self, decision: Decision, context: DecisionContext, book: Book, checks: dict[str, str]
    ) -> _Verdict:
        cfg = self.settings
        if decision.action is Action.HOLD:
            return _Verdict(True, "nothing to do", ZERO)
        checks["confidence"] = f"{decision.confidence:.2f} (min {cfg.min_confidence:.2f})"
        if decision.confidence < cfg.min_confidence:
            return _reject(
                f"confidence {decision.confidence:.2f} below min_confidence {cfg.min_confidence:.2f}"
            )
        direction = 1 if decision.action is Action.BUY else -1
        held = book.quantity
        if held != 0 and (held > 0) != (direction > 0):
            size = abs(held)
            if decision.suggested_size is not None and 0 < decision.suggested_size < size:
                size = context.instrument.round_size(decision.suggested_size)
                if size == 0:
                    return _Verdict(True, "nothing to do: the exit size rounds to 0", ZERO)
            checks["exit"] = f"reduces {held} by {size}; exits are never blocked by limits"
            closing = "closes" if size == abs(held) else "reduces"
            return _Verdict(True, f"exit: {closing} the position of {held}", size)
        if direction < 0 and not cfg.allow_short:
            return _reject("shorting is not allowed (allow_short is false)")
        return self._entry(decision, context, book, direction, checks)

    def _entry(
        self,
        decision: Decision,
        context: DecisionContext,
        book: Book,
        direction: int,
        checks: dict[str, str],
    ) -> _Verdict:
        cfg, state = self.settings, self.state
        if state.kill_switch.tripped:
            return _reject(f"kill switch tripped: {state.kill_switch.reason}")
        checks["drawdown"] = f"{state.drawdown:.2%} (max {cfg.max_drawdown:.2%})"
        sod = state.start_of_day_equity
        if sod is not None and sod > 0:
            loss = (sod - book.equity) / sod
            checks["daily_loss"] = f"{loss:.2%} (max {cfg.max_daily_loss:.2%})"
            if loss >= dec(cfg.max_daily_loss):
                return _reject(
                    f"daily_loss: equity {book.equity:,.2f} is {loss:.2%} below the start of day "
                    f"{sod:,.2f}, limit {cfg.max_daily_loss:.2%}"
                )
        if book.equity <= 0:
            return _reject(f"equity {book.equity:,.2f} leaves nothing to risk")
        atr = atr_estimate(context)
        levels = protective_levels(
            decision.action,
            book.price,
            stop=decision.stop_loss,
            target=decision.take_profit,
            atr=atr,
            atr_multiple=cfg.atr_stop_multiple,
            reward_risk=cfg.reward_risk,
            instrument=context.instrument,
        )
        if isinstance(levels, str):
            return _reject(levels)
        checks["levels"] = f"stop {levels.stop_loss}, target {levels.take_profit} ({levels.source})"
        target = self._target_size(decision, context, book, levels, atr, checks)
        if isinstance(target, str):
            return _reject(target, levels)
        wanted = target - abs(book.quantity)
        if decision.suggested_size is not None:
            wanted = min(wanted, decision.suggested_size)
        wanted = context.instrument.round_size(max(wanted, ZERO))
        checks["sizing"] = f"{cfg.sizing}: target position {target:.8g}, order {wanted}"
        if wanted <= 0:
            if book.quantity != 0:
                return _Verdict(True, "nothing to do: position already at its target", ZERO, levels)
            return _reject(
                f"sizing: {target:.8g} rounds to 0 (increment {context.instrument.size_increment}, "
                f"min {context.instrument.min_size})",
                levels,
            )
        limits = entry_limits(book, direction, cfg, self._correlation)
        size, binding = fit_quantity(book, limits, wanted, context.instrument)
        for limit in limits:
            checks[limit.name] = limit.describe(book, size)
        if binding is None:
            return _Verdict(True, "approved", size, levels)
        excess = f"{wanted} would make {binding.describe(book, wanted)}"
        if size <= 0:
            return _reject(f"{binding.name}: {excess}; nothing fits", levels)
        return _Verdict(True, f"resized: {binding.name}: {excess}; {wanted} → {size}", size, levels)

    def _target_size(
        self,
        decision: Decision,
        context: DecisionContext,
        book: Book,
        levels: Levels,
        atr: Decimal | None,
        checks: dict[str, str],
    ) -> Decimal | str:
        cfg = self.settings
        if cfg.sizing == "fixed_fractional":
            return fixed_fractional_size(
                book.equity, cfg.risk_per_trade, book.price, levels.stop_loss
            )
        if cfg.sizing == "volatility_target":
            if atr is None:  # the stop sits atr_stop_multiple ATRs away by construction
                atr = abs(book.price - levels.stop_loss) / dec(cfg.atr_stop_multiple)
            return volatility_target_size(book.equity, cfg.risk_per_trade, atr)
        edge = self.edge(decision, context) if self.edge else None
        if edge is None:
            payoff = abs(levels.take_profit - book.price) / abs(book.price - levels.stop_loss)
            edge = Edge(win_rate=decision.confidence, payoff=float(payoff))
        fraction = kelly_fraction(edge, cfg.kelly_fraction, cfg.kelly_cap)
        checks["kelly"] = (
            f"win rate {edge.win_rate:.2f}, payoff {edge.payoff:.2f} → {fraction:.2%} of equity"
        )
        if fraction <= 0:
            return f"kelly: no edge (win rate {edge.win_rate:.2f}, payoff {edge.payoff:.2f})"
        return kelly_size(book.equity, fraction, book.price)

    def _correlation(self, a: str, b: str) -> float | None:
        ca, cb = self._closes.get(a), self._closes.get(b)
        if not ca or not cb:
            return None
        return correlation(ca, cb, self.settings.correlation_lookback)


def _reject(reason: str, levels: Levels | None = None) -> _Verdict:
    return _Verdict(False, f"rejected: {reason}", ZERO, levels)
