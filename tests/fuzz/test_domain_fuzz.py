"""Fuzzing domain model validation: arbitrary dicts give a model or a pydantic ValidationError.

Never another exception (OverflowError, decimal.InvalidOperation ...), and every model that is
built satisfies its invariants, holds only finite numbers and survives a JSON round trip
unchanged (what storage and the API rely on).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import Fill, Order, OrderType

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(
    st.integers(min_value=-5, max_value=200),
    st.integers(),
    st.floats(),
    st.floats(min_value=0.5, max_value=200),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["1", "0", "-1", "1e400", "1E+999999", "1e-400", "NaN", "sNaN", "Infinity", "0.1", "abc"]
    ),
)
times = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),  # naive
    st.datetimes(
        timezones=st.sampled_from([timezone(timedelta(hours=14)), timezone(-timedelta(hours=14))])
    ),
    st.sampled_from(
        [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "not a time",
            "1700000000",
        ]
    ),
    st.integers(),
)
text = st.one_of(
    st.text(max_size=12), st.sampled_from(["BTC-USD", "btc-usd", "AAPL", "", "x" * 70])
)
anything = st.one_of(
    st.none(), st.booleans(), numbers, text, times, st.lists(st.integers(), max_size=2)
)
enums = {
    "side": ["BUY", "SELL", "buy", "HOLD"],
    "type": ["market", "limit", "stop", "MARKET"],
    "time_in_force": ["GTC", "IOC", "FOK", "DAY", "ZZZ"],
    "status": ["new", "submitted", "filled", "partially_filled", "canceled", "nope"],
    "action": ["BUY", "SELL", "HOLD", "buy", "SHORT"],
    "asset_class": ["crypto", "forex", "equity", "bonds"],
}


def field_values(name: str) -> st.SearchStrategy[Any]:
    if name in enums:
        return st.one_of(st.sampled_from(enums[name]), anything)
    if name in ("ts", "created_at", "updated_at"):
        return times
    if name in ("symbol", "instrument", "provider", "base", "quote", "client_order_id", "id"):
        return text
    if name == "votes":
        return st.lists(
            st.dictionaries(st.sampled_from(["provider", "confidence", "action"]), anything),
            max_size=2,
        )
    if name in ("weights", "timings_ms"):
        return st.dictionaries(st.text(max_size=4), anything, max_size=2)
    if name == "abstain_reason":
        return st.one_of(st.none(), text)
    return st.one_of(numbers, anything)


T0 = "2024-01-01T00:00:00Z"
VALID: dict[type[BaseModel], dict[str, Any]] = {
    Bar: {"ts": T0, "open": 10, "high": 12, "low": 9, "close": 11, "volume": 5},
    Quote: {"symbol": "BTC-USD", "ts": T0, "bid": "99.5", "ask": "100.5"},
    Order: {
        "client_order_id": "ffe-1",
        "instrument": "BTC-USD",
        "side": "BUY",
        "type": "limit",
        "quantity": "2",
        "limit_price": "100",
        "filled_quantity": "1",
        "average_fill_price": "100",
    },
    Fill: {
        "client_order_id": "ffe-1",
        "instrument": "BTC-USD",
        "side": "SELL",
        "quantity": "1",
        "price": "100",
    },
    ProviderVote: {"provider": "trend", "action": "BUY", "confidence": 0.7, "stop_loss": "90"},
    Decision: {
        "instrument": "BTC-USD",
        "action": "BUY",
        "confidence": 0.6,
        "reference_price": "100",
        "stop_loss": "95",
        "take_profit": "110",
        "votes": [{"provider": "trend", "action": "BUY", "confidence": 0.6}],
    },
    Instrument: {
        "symbol": "btc-usd",
        "asset_class": "crypto",
        "base": "BTC",
        "quote": "USD",
        "size_increment": "0.001",
        "min_size": "0.01",
    },
}


def payloads(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid payload with up to three fields replaced by fuzz, one maybe dropped, or any dict."""
    names = sorted(model.model_fields)
    changes = st.lists(
        st.sampled_from([*names, "extra"]).flatmap(
            lambda name: field_values(name).map(lambda value: (name, value))
        ),
        max_size=3,
    )
    mutated = st.builds(
        lambda pairs, drop: {k: v for k, v in {**VALID[model], **dict(pairs)}.items() if k != drop},
        changes,
        st.one_of(st.none(), st.sampled_from(names)),
    )
    wild = st.fixed_dictionaries({}, optional={name: field_values(name) for name in names})
    return st.one_of(mutated, mutated, wild)


def build(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        built = model.model_validate(data)
    except ValidationError as exc:
        assert exc.errors(), exc
        return None
    again = model.model_validate_json(built.model_dump_json())
    assert again == built, (built, again)
    json.dumps(built.model_dump(mode="json"), allow_nan=False)  # no nan/inf anywhere
    return built


def non_finite(value: Any) -> bool:
    """Whether pydantic would read ``value`` as a float that JSON cannot carry."""
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def finite_positive(*values: Decimal | float | None) -> bool:
    return all(
        v is None or (v > 0 and (v.is_finite() if isinstance(v, Decimal) else math.isfinite(v)))
        for v in values
    )


@FUZZ
@given(data=payloads(Bar))
@example(data={"ts": "9999-12-31T23:59:59-14:00", "open": 1, "high": 1, "low": 1, "close": 1})
@example(data={"ts": "0001-01-01T00:00:00+14:00", "open": 1, "high": 1, "low": 1, "close": 1})
@example(data={"ts": "2024-01-01T00:00:00Z", "open": 1, "high": "1e400", "low": 1, "close": 1})
def test_bar(data: dict[str, Any]) -> None:
    bar = build(Bar, data)
    if bar is not None:
        assert finite_positive(bar.open, bar.high, bar.low, bar.close)
        assert bar.low <= min(bar.open, bar.close) and max(bar.open, bar.close) <= bar.high
        assert bar.volume >= 0 and math.isfinite(bar.volume)
        assert bar.ts.utcoffset() == timedelta(0)


@FUZZ
@given(data=payloads(Quote))
@example(data={"symbol": "X", "ts": "2024-01-01T00:00:00Z", "bid": "Infinity", "ask": "Infinity"})
def test_quote(data: dict[str, Any]) -> None:
    quote = build(Quote, data)
    if quote is not None:
        assert finite_positive(quote.bid, quote.ask) and quote.bid <= quote.ask
        assert quote.ts.utcoffset() == timedelta(0)


@FUZZ
@given(data=payloads(Order))
@example(data={"client_order_id": "c", "instrument": "X", "side": "BUY", "quantity": "1E+999999"})
@example(
    data={
        "client_order_id": "c",
        "instrument": "X",
        "side": "BUY",
        "quantity": 1,
        "type": "limit",
        "limit_price": "sNaN",
    }
)
def test_order(data: dict[str, Any]) -> None:
    order = build(Order, data)
    if order is not None:
        assert finite_positive(order.quantity, order.limit_price, order.stop_price)
        assert finite_positive(order.stop_loss, order.take_profit, order.average_fill_price)
        assert 0 <= order.filled_quantity <= order.quantity
        assert order.type is not OrderType.LIMIT or order.limit_price is not None
        assert order.type is not OrderType.STOP or order.stop_price is not None
        assert 1 <= len(order.client_order_id) <= 64


@FUZZ
@given(data=payloads(Fill))
def test_fill(data: dict[str, Any]) -> None:
    fill = build(Fill, data)
    if fill is not None:
        assert finite_positive(fill.quantity, fill.price)
        assert fill.commission >= 0 and fill.commission.is_finite()
        assert fill.signed_quantity != 0


@FUZZ
@given(data=payloads(ProviderVote))
@example(data={"provider": "p", "abstained": True, "abstain_reason": ""})
@example(data={"provider": "p", "confidence": float("nan")})
def test_provider_vote(data: dict[str, Any]) -> None:
    vote = build(ProviderVote, data)
    if vote is not None:
        assert 0 <= vote.confidence <= 1
        assert not vote.abstained or vote.abstain_reason
        assert finite_positive(vote.stop_loss, vote.take_profit)
        assert vote.latency_ms >= 0 and vote.tokens_in >= 0 and vote.cost_usd >= 0


@FUZZ
@given(data=payloads(Decision))
@example(
    data={
        "instrument": "X",
        "action": "BUY",
        "confidence": 1,
        "reference_price": 10,
        "stop_loss": 11,
    }
)
@example(
    data={
        "instrument": "X",
        "action": "SELL",
        "confidence": 0.5,
        "reference_price": "1E+999999",
        "take_profit": 1,
    }
)
# issue 16: a non-finite timing was stored and served as null and could never be read back
@example(
    data={"instrument": "X", "action": "HOLD", "confidence": 0.5, "timings_ms": {"t": math.inf}}
)
@example(
    data={"instrument": "X", "action": "HOLD", "confidence": 0.5, "timings_ms": {"t": math.nan}}
)
@example(
    data={"instrument": "X", "action": "BUY", "confidence": 0.5, "weights": {"p": "-Infinity"}}
)
def test_decision(data: dict[str, Any]) -> None:
    decision = build(Decision, data)
    maps = [data.get(k) for k in ("weights", "timings_ms")]
    if any(non_finite(v) for m in maps if isinstance(m, dict) for v in m.values()):
        assert decision is None, "a non-finite weight or timing must be refused"
    if decision is not None:
        assert 0 <= decision.confidence <= 1
        ref = decision.reference_price
        assert finite_positive(ref, decision.stop_loss, decision.take_profit)
        if ref is not None and decision.action is Action.BUY:
            assert decision.stop_loss is None or decision.stop_loss < ref
            assert decision.take_profit is None or decision.take_profit > ref
        if ref is not None and decision.action is Action.SELL:
            assert decision.stop_loss is None or decision.stop_loss > ref
            assert decision.take_profit is None or decision.take_profit < ref


@FUZZ
@given(data=payloads(Instrument))
@example(
    data={
        "symbol": "x",
        "asset_class": "crypto",
        "base": "X",
        "quote": "U",
        "min_size": "1e30",
        "size_increment": "1e-30",
    }
)
@example(
    data={
        "symbol": "x",
        "asset_class": "crypto",
        "base": "X",
        "quote": "U",
        "min_size": "1E+999999",
        "size_increment": "3",
    }
)
def test_instrument(data: dict[str, Any]) -> None:
    instrument = build(Instrument, data)
    if instrument is not None:
        assert instrument.symbol == instrument.symbol.upper() and instrument.symbol
        assert finite_positive(instrument.price_increment, instrument.size_increment)
        assert instrument.min_size >= 0
        assert instrument.min_size % instrument.size_increment == 0
