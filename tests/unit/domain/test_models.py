"""Invalid domain states cannot be constructed; the ledger rule is exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.errors import InvalidTransition
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import Fill, Order, OrderStatus, OrderType, Side, client_order_id_for
from ffe_core.domain.portfolio import Portfolio, replay

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_bar_rejects_high_below_low() -> None:
    with pytest.raises(ValidationError, match="high"):
        Bar(ts=T0, open=10, high=9, low=11, close=10)


def test_bar_rejects_naive_timestamp_and_converts_to_utc() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Bar(ts=datetime(2026, 1, 1), open=1, high=1, low=1, close=1)
    cet = timezone(timedelta(hours=1))
    bar = Bar(ts=datetime(2026, 1, 1, 1, tzinfo=cet), open=1, high=1, low=1, close=1)
    assert bar.ts == T0 and bar.ts.tzinfo == UTC


def test_bar_rejects_nan_and_close_outside_range() -> None:
    with pytest.raises(ValidationError):
        Bar(ts=T0, open=1, high=2, low=1, close=float("nan"))
    with pytest.raises(ValidationError, match="within"):
        Bar(ts=T0, open=1, high=2, low=1, close=3)


def test_quote_cannot_be_crossed() -> None:
    with pytest.raises(ValidationError):
        Quote(symbol="X", ts=T0, bid=Decimal(2), ask=Decimal(1))


def test_vote_confidence_bounded_and_abstention_needs_reason() -> None:
    with pytest.raises(ValidationError):
        ProviderVote(provider="p", confidence=1.01)
    with pytest.raises(ValidationError, match="reason"):
        ProviderVote(provider="p", abstained=True)
    assert ProviderVote.abstain("p", "timeout").abstain_reason == "timeout"


def test_decision_levels_must_be_on_the_protective_side() -> None:
    base = {"instrument": "BTC-USD", "confidence": 0.7, "reference_price": Decimal(100)}
    Decision(action=Action.BUY, stop_loss=Decimal(95), take_profit=Decimal(110), **base)
    Decision(action=Action.SELL, stop_loss=Decimal(105), take_profit=Decimal(90), **base)
    with pytest.raises(ValidationError):
        Decision(action=Action.BUY, stop_loss=Decimal(105), **base)
    with pytest.raises(ValidationError):
        Decision(action=Action.SELL, take_profit=Decimal(110), **base)


def test_order_validation() -> None:
    with pytest.raises(ValidationError):
        Order(client_order_id="c", instrument="X", side=Side.BUY, quantity=Decimal(-1))
    with pytest.raises(ValidationError, match="limit_price"):
        Order(
            client_order_id="c",
            instrument="X",
            side=Side.BUY,
            quantity=Decimal(1),
            type=OrderType.LIMIT,
        )
    with pytest.raises(ValidationError, match="market order"):
        Order(
            client_order_id="c",
            instrument="X",
            side=Side.BUY,
            quantity=Decimal(1),
            limit_price=Decimal(1),
        )


def test_order_lifecycle_transitions() -> None:
    o = Order(client_order_id="c", instrument="X", side=Side.BUY, quantity=Decimal(2))
    o = o.transition(OrderStatus.SUBMITTED).transition(OrderStatus.ACCEPTED)
    fill = Fill(
        client_order_id="c", instrument="X", side=Side.BUY, quantity=Decimal(1), price=Decimal(10)
    )
    o = o.with_fill(fill)
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.remaining == 1
    o = o.with_fill(fill.model_copy(update={"fill_id": "f2", "price": Decimal(20)}))
    assert o.status is OrderStatus.FILLED and o.average_fill_price == 15
    with pytest.raises(InvalidTransition):
        o.transition(OrderStatus.CANCELED)
    with pytest.raises(InvalidTransition):
        o.with_fill(fill.model_copy(update={"fill_id": "f3"}))


def test_client_order_id_is_deterministic_per_decision_and_leg() -> None:
    assert client_order_id_for("d1") == client_order_id_for("d1")
    assert client_order_id_for("d1") != client_order_id_for("d2")
    assert client_order_id_for("d1", "exit") != client_order_id_for("d1")


def test_instrument_rounding_never_increases_size() -> None:
    btc = Instrument(
        symbol="btc-usd",
        asset_class=AssetClass.CRYPTO,
        base="BTC",
        quote="USD",
        size_increment=Decimal("0.001"),
        min_size=Decimal("0.002"),
    )
    assert btc.symbol == "BTC-USD"
    assert btc.round_size(Decimal("0.12399")) == Decimal("0.123")
    assert btc.round_size(Decimal("-0.12399")) == Decimal("-0.123")
    assert btc.round_size(Decimal("0.0019")) == 0


@settings(max_examples=200, deadline=None)
@given(
    size=st.decimals(
        min_value=Decimal("-1e6"),
        max_value=Decimal("1e6"),
        places=8,
        allow_nan=False,
        allow_infinity=False,
    ),
    inc=st.sampled_from([Decimal("1"), Decimal("0.01"), Decimal("0.00000001"), Decimal("25")]),
)
def test_rounded_size_is_on_grid_and_never_larger(size: Decimal, inc: Decimal) -> None:
    inst = Instrument(
        symbol="X", asset_class=AssetClass.EQUITY, base="X", quote="USD", size_increment=inc
    )
    r = inst.round_size(size)
    assert abs(r) <= abs(size)
    assert r % inc == 0
    assert abs(size) - abs(r) < inc


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from(["A", "B"]),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2),
        st.decimals(min_value=Decimal("1"), max_value=Decimal("500"), places=2),
        st.decimals(min_value=Decimal("0"), max_value=Decimal("2"), places=2),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(fills=fills_strategy)
def test_ledger_conserves_value(
    fills: list[tuple[str, Side, Decimal, Decimal, Decimal]],
) -> None:
    """Cash + positions at cost + realized P&L account for every fill and commission exactly."""
    history = [
        Fill(
            fill_id=str(i),
            client_order_id=f"c{i}",
            instrument=inst,
            side=side,
            quantity=q,
            price=p,
            commission=c,
            ts=T0,
        )
        for i, (inst, side, q, p, c) in enumerate(fills)
    ]
    book = replay(Decimal(10000), history)
    net_qty = {
        s: sum((f.signed_quantity for f in history if f.instrument == s), Decimal(0))
        for s in ("A", "B")
    }
    for s, q in net_qty.items():
        assert book.position(s).quantity == q
    # Marking every position at its average price, equity = initial + realized - commissions.
    realized = sum((p.realized_pnl for p in book.positions.values()), Decimal(0))
    commissions = sum((f.commission for f in history), Decimal(0))
    equity_at_cost = book.equity({})
    assert abs(equity_at_cost - (Decimal(10000) + realized - commissions)) < Decimal("1e-12")


def test_position_flip_realizes_and_reopens_at_fill_price() -> None:
    book = Portfolio(cash=Decimal(1000))
    buy = Fill(
        client_order_id="a",
        instrument="X",
        side=Side.BUY,
        quantity=Decimal(2),
        price=Decimal(10),
        ts=T0,
    )
    sell = Fill(
        client_order_id="b",
        instrument="X",
        side=Side.SELL,
        quantity=Decimal(3),
        price=Decimal(12),
        ts=T0,
    )
    book = book.apply(buy).apply(sell)
    pos = book.position("X")
    assert pos.quantity == -1 and pos.average_price == 12 and pos.realized_pnl == 4
    assert book.cash == Decimal(1000) - 20 + 36


def test_approval_resolution_is_final_and_expires() -> None:
    a = Approval(decision_id="d", instrument="X", expires_at=T0 + timedelta(minutes=1))
    assert a.effective_status(T0 + timedelta(minutes=2)) is ApprovalStatus.EXPIRED
    with pytest.raises(InvalidTransition):
        a.resolve(ApprovalStatus.APPROVED, "bob", T0 + timedelta(minutes=2))
    done = a.resolve(ApprovalStatus.REJECTED, "bob", T0)
    assert done.decided_by == "bob"
    with pytest.raises(InvalidTransition):
        done.resolve(ApprovalStatus.APPROVED, "eve", T0)
