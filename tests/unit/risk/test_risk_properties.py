"""No sequence of decisions, prices and fills takes a position, the gross exposure or the leverage
past its limit: every approved size is filled at the decision's price and the book is re-checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ffe_core.config import RiskSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.orders import Fill, Side
from ffe_core.domain.portfolio import Portfolio
from ffe_core.services.risk import RiskManager

from .factories import AAPL, BTC, ETH, HOUR, TS, bars

INSTRUMENTS = (BTC, ETH, AAPL)
START = {"BTC-USD": Decimal("50000"), "ETH-USD": Decimal("3000"), "AAPL": Decimal("190")}


@dataclass(frozen=True)
class Step:
    moves: tuple[float, float, float]
    which: int
    action: Action
    confidence: float
    atr_fraction: float
    own_stop: float | None
    size: Decimal | None


steps = st.builds(
    Step,
    moves=st.tuples(*[st.floats(-0.3, 0.3)] * 3),
    which=st.integers(0, 2),
    action=st.sampled_from(list(Action)),
    confidence=st.floats(0.3, 1.0),
    atr_fraction=st.floats(0.001, 0.2),
    own_stop=st.none() | st.floats(0.001, 0.3),
    size=st.none() | st.decimals("0.001", "50", places=3),
)

risk_settings = st.builds(
    RiskSettings,
    sizing=st.sampled_from(["fixed_fractional", "volatility_target", "kelly"]),
    risk_per_trade=st.floats(0.001, 0.2),
    kelly_fraction=st.floats(0.05, 1.0),
    kelly_cap=st.floats(0.05, 1.0),
    max_position_fraction=st.floats(0.05, 2.0),
    max_gross_exposure=st.floats(0.1, 3.0),
    max_leverage=st.floats(0.1, 3.0),
    max_daily_loss=st.floats(0.01, 1.0),
    max_drawdown=st.floats(0.01, 1.0),
    max_correlated_exposure=st.floats(0.1, 5.0),
    min_confidence=st.floats(0.0, 0.8),
    allow_short=st.booleans(),
    correlation_lookback=st.integers(3, 30),
)


def ratio(value: Decimal, equity: Decimal) -> Decimal:
    return value / equity


def build_context(
    instrument: Instrument, history: list[Decimal], book: Portfolio, atr: float, now: object
) -> DecisionContext:
    closes = [float(p) for p in history]
    return DecisionContext(
        instrument=instrument,
        as_of=now,
        bars=bars(closes, now),  # type: ignore[arg-type]
        indicators={"close": closes[-1], "atr_14": atr},
        position=book.position(instrument.symbol),
        portfolio=book,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cfg=risk_settings,
    fee=st.sampled_from([Decimal(0), Decimal("0.001"), Decimal("0.01")]),
    plan=st.lists(steps, min_size=1, max_size=25),
)
def test_no_fill_takes_exposure_past_a_limit(
    cfg: RiskSettings, fee: Decimal, plan: list[Step]
) -> None:
    manager = RiskManager(cfg, fee_rate=fee)
    book = Portfolio(cash=Decimal("100000"))
    history = {s: [p] for s, p in START.items()}
    pos_limit, gross_limit = (
        Decimal(repr(cfg.max_position_fraction)),
        Decimal(repr(min(cfg.max_gross_exposure, cfg.max_leverage))),
    )
    for i, step in enumerate(plan):
        now = TS + HOUR * (i + 1)
        for symbol, move in zip(START, step.moves, strict=True):
            moved = (history[symbol][-1] * Decimal(repr(1 + move))).quantize(Decimal("0.01"))
            history[symbol].append(max(moved, Decimal("0.01")))
            manager.observe(symbol, bars([float(p) for p in history[symbol]], now))
        instrument = INSTRUMENTS[step.which]
        symbol = instrument.symbol
        prices = {s: h[-1] for s, h in history.items()}
        price = prices[symbol]
        stop = None
        if step.own_stop is not None and step.action is not Action.HOLD:
            sign = 1 if step.action is Action.BUY else -1
            stop = instrument.round_price(price * Decimal(repr(1 - sign * step.own_stop)))
            if stop <= 0 or (price - stop) * sign <= 0:
                stop = None
        dec = Decision(
            instrument=symbol,
            action=step.action,
            confidence=step.confidence,
            reference_price=price,
            stop_loss=stop,
            suggested_size=step.size,
        )
        ctx = build_context(
            instrument, history[symbol], book, float(price) * step.atr_fraction, now
        )
        before_qty = book.position(symbol).quantity
        before_gross = book.gross_exposure(prices)
        got = manager.assess(dec, ctx)
        risk = got.risk
        assert risk is not None and got.suggested_size is not None
        assert Decision.model_validate(got.model_dump()) == got  # storable as it is
        size = got.suggested_size
        event(risk.reason.split(":")[0] if ":" in risk.reason else risk.reason)
        if not risk.approved or size == 0:
            assert size == 0
            continue
        assert step.action is not Action.HOLD
        assert size == instrument.round_size(size) or size == abs(before_qty)
        side = Side.BUY if step.action is Action.BUY else Side.SELL
        exit_trade = before_qty != 0 and (before_qty > 0) != (side is Side.BUY)
        book = book.apply(
            Fill(
                client_order_id=f"c{i}",
                instrument=symbol,
                side=side,
                quantity=size,
                price=price,
                commission=fee * size * price,
                ts=now,
            )
        )
        after_qty = book.position(symbol).quantity
        equity = book.equity(prices)
        if exit_trade:  # reduces without flipping, whatever the limits say
            assert abs(after_qty) < abs(before_qty) and after_qty * before_qty >= 0
            assert book.gross_exposure(prices) <= before_gross
            continue
        assert not manager.state.kill_switch.tripped
        assert side is Side.BUY or cfg.allow_short
        assert got.stop_loss is not None and got.take_profit is not None
        sign = side.sign
        assert (price - got.stop_loss) * sign > 0 and (got.take_profit - price) * sign > 0
        assert equity > 0
        assert ratio(abs(after_qty * price), equity) <= pos_limit
        assert ratio(book.gross_exposure(prices), equity) <= gross_limit


@settings(max_examples=60, deadline=None)
@given(
    cfg=risk_settings,
    prices=st.lists(st.decimals("1", "100000", places=2), min_size=2, max_size=20),
)
def test_repeated_buys_never_pass_the_position_limit(
    cfg: RiskSettings, prices: list[Decimal]
) -> None:
    """The same signal every bar, filled each time: the position converges, never overshoots."""
    manager = RiskManager(cfg)
    book = Portfolio(cash=Decimal("100000"))
    limit = Decimal(repr(min(cfg.max_position_fraction, cfg.max_gross_exposure, cfg.max_leverage)))
    for i, price in enumerate(prices):
        now = TS + timedelta(minutes=i)
        ctx = build_context(ETH, [price], book, float(price) * 0.02, now)
        got = manager.assess(
            Decision(
                instrument="ETH-USD", action=Action.BUY, confidence=1.0, reference_price=price
            ),
            ctx,
        )
        if got.suggested_size:
            book = book.apply(
                Fill(
                    client_order_id=f"c{i}",
                    instrument="ETH-USD",
                    side=Side.BUY,
                    quantity=got.suggested_size,
                    price=price,
                    ts=now,
                )
            )
            equity = book.equity({"ETH-USD": price})
            assert book.position("ETH-USD").quantity * price <= limit * equity


@settings(max_examples=100, deadline=None)
@given(
    limit=st.floats(0.1, 1.5),
    moves=st.lists(st.floats(-0.05, 0.05), min_size=40, max_size=40),
    trades=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([Action.BUY, Action.SELL])),
        min_size=1,
        max_size=12,
    ),
)
def test_twin_instruments_never_pass_the_correlated_exposure_limit(
    limit: float, moves: list[float], trades: list[tuple[int, Action]]
) -> None:
    """BTC and ETH move by the same returns (correlation 1): positions on the same side count
    together, so after any entry their combined value stays within the correlated limit."""
    cfg = RiskSettings(
        max_correlated_exposure=limit,
        max_position_fraction=2,
        max_gross_exposure=5,
        max_leverage=5,
        max_daily_loss=1,
        max_drawdown=1,
        risk_per_trade=0.2,
        correlation_lookback=30,
    )
    manager = RiskManager(cfg)
    paths = {"BTC-USD": [50000.0], "ETH-USD": [3000.0]}
    for m in moves[:30]:
        for p in paths.values():
            p.append(p[-1] * (1 + m))
    book = Portfolio(cash=Decimal("100000"))
    for i, (which, action) in enumerate(trades):
        now = TS + HOUR * (i + 30)
        for p in paths.values():
            p.append(p[-1] * (1 + moves[30 + i % 10]))
        for s, p in paths.items():
            manager.observe(s, bars(p, now))
        instrument = (BTC, ETH)[which]
        prices = {s: Decimal(repr(p[-1])) for s, p in paths.items()}
        price = prices[instrument.symbol]
        ctx = build_context(instrument, [price], book, float(price) * 0.01, now)
        before = book.position(instrument.symbol).quantity
        got = manager.assess(
            Decision(
                instrument=instrument.symbol, action=action, confidence=1.0, reference_price=price
            ),
            ctx,
        )
        if not got.suggested_size:
            continue
        side = Side.BUY if action is Action.BUY else Side.SELL
        book = book.apply(
            Fill(
                client_order_id=f"c{i}",
                instrument=instrument.symbol,
                side=side,
                quantity=got.suggested_size,
                price=price,
                ts=now,
            )
        )
        if before != 0 and (before > 0) != (side is Side.BUY):
            continue  # an exit
        same_side = sum(
            (
                abs(p.market_value(prices[s]))
                for s, p in book.positions.items()
                if p.quantity * side.sign > 0
            ),
            Decimal(0),
        )
        equity = book.equity(prices)
        assert same_side <= Decimal(repr(limit)) * equity * (1 + Decimal("1e-9"))
