"""The vote cache's key: every change to the rendered prompt changes it, without rendering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core.domain.context import DecisionContext, PastDecision
from ffe_core.domain.decisions import Action
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.prompt_keys import prompt_key
from ffe_core.prompts import PROMPT_VERSION, prompt_hash, render_prompt
from ffe_core.services.context import compute_indicators

END = datetime(2026, 3, 2, 12, tzinfo=UTC)
ETH = Instrument(symbol="ETH-USD", asset_class=AssetClass.CRYPTO, base="ETH", quote="USD")

PROMPT_FINGERPRINTS = {
    "1": "3d2775574ed7e9aa0070748ead73c1af924274bd0ea11b74a0712ba33b6319e0",
}
"""``prompt_hash`` of BASE's prompt under each PROMPT_VERSION."""


def _bars(n: int = 60, last: float = 100.0, volume: float = 10.0) -> tuple[Bar, ...]:
    return tuple(
        Bar(
            ts=END - timedelta(hours=n - 1 - i),
            open=last - (n - 1 - i) * 0.1,
            high=last - (n - 1 - i) * 0.1 + 1 + (i % 3) * 0.25,
            low=last - (n - 1 - i) * 0.1 - 1,
            close=last - (n - 1 - i) * 0.1 + (i % 2) * 0.05,
            volume=volume,
        )
        for i in range(n)
    )


def _context(**changes: Any) -> DecisionContext:
    bars = changes.pop("bars", _bars())
    qty, avg = Decimal("2"), Decimal("90")
    fields: dict[str, Any] = {
        "instrument": ETH,
        "as_of": bars[-1].ts,
        "bars": bars,
        "indicators": compute_indicators(bars),
        "position": Position(instrument="ETH-USD", quantity=qty, average_price=avg),
        "portfolio": Portfolio(
            cash=Decimal("5000"),
            positions={"ETH-USD": Position(instrument="ETH-USD", quantity=qty, average_price=avg)},
        ),
        "memory": (
            PastDecision(created_at=END - timedelta(hours=3), action=Action.BUY, confidence=0.61),
        ),
    }
    fields.update(changes)
    return DecisionContext(**fields)


def _moved(bars: tuple[Bar, ...], k: int, **update: Any) -> tuple[Bar, ...]:
    return (*bars[:k], bars[k].model_copy(update=update), *bars[k + 1 :])


BASE = _context()
SHORT = Position(instrument="ETH-USD", quantity=Decimal("-1"), average_price=Decimal("90"))
CHANGES: dict[str, Callable[[], DecisionContext]] = {
    "last close": lambda: _context(bars=_moved(_bars(), -1, close=100.2)),
    "an older shown bar's high": lambda: _context(bars=_moved(_bars(), -20, high=200.0)),
    "a shown bar's volume": lambda: _context(bars=_moved(_bars(), -5, volume=11.0)),
    "a shown bar's time": lambda: _context(
        bars=_moved(_bars(), -10, ts=_bars()[-10].ts + timedelta(minutes=1))
    ),
    "an indicator": lambda: _context(indicators={**BASE.indicators, "rsi_14": 12.5}),
    "no indicators": lambda: _context(indicators={}),
    "the decision time": lambda: _context(as_of=END + timedelta(minutes=5)),
    "the symbol": lambda: _context(
        instrument=ETH.model_copy(update={"symbol": "BTC-USD"}),
        position=Position(instrument="BTC-USD"),
        portfolio=Portfolio(cash=Decimal("5000")),
    ),
    "the asset class": lambda: _context(
        instrument=ETH.model_copy(update={"asset_class": AssetClass.EQUITY})
    ),
    "the quote currency": lambda: _context(instrument=ETH.model_copy(update={"quote": "EUR"})),
    "the position": lambda: _context(position=SHORT),
    "how a quantity is written": lambda: _context(
        position=Position(instrument="ETH-USD", quantity=Decimal("2.0"), average_price=Decimal(90))
    ),
    "the cash": lambda: _context(portfolio=BASE.portfolio.model_copy(update={"cash": Decimal(1)})),
    "the account currency": lambda: _context(
        portfolio=BASE.portfolio.model_copy(update={"currency": "EUR"})
    ),
    "another instrument's position": lambda: _context(
        portfolio=BASE.portfolio.model_copy(
            update={
                "positions": {
                    **BASE.portfolio.positions,
                    "BTC-USD": Position(
                        instrument="BTC-USD", quantity=Decimal(1), average_price=Decimal(10)
                    ),
                }
            }
        )
    ),
    "a memory's outcome": lambda: _context(
        memory=(BASE.memory[0].model_copy(update={"outcome_return": 0.02}),)
    ),
    "a memory's confidence": lambda: _context(
        memory=(BASE.memory[0].model_copy(update={"confidence": 0.7}),)
    ),
    "no memory": lambda: _context(memory=()),
}


@pytest.mark.parametrize("what", sorted(CHANGES))
def test_a_change_to_the_prompt_changes_the_key(what: str) -> None:
    changed = CHANGES[what]()
    assert render_prompt(changed) != render_prompt(BASE)  # the change shows in the prompt
    assert prompt_key(changed) != prompt_key(BASE)


def test_the_key_is_stable_and_depends_on_the_bars_shown() -> None:
    assert prompt_key(_context()) == prompt_key(BASE)
    assert prompt_key(BASE, max_bars=5) != prompt_key(BASE)
    # A bar before the shown ones reaches the prompt only through the indicators.
    early = _context(bars=_moved(_bars(), 0, close=94.3), indicators=BASE.indicators)
    assert render_prompt(early) == render_prompt(BASE) and prompt_key(early) == prompt_key(BASE)


_prices = st.sampled_from([99.5, 100.0, 100.0000001])
_decimals = st.sampled_from(["0", "1", "1.0", "-1"])


@st.composite
def _contexts(draw: st.DrawFn) -> DecisionContext:
    n = draw(st.integers(1, 4))
    bars = tuple(
        Bar(
            ts=END - timedelta(minutes=draw(st.sampled_from([0, 1, 60])) + 120 * (n - 1 - i)),
            open=100.0,
            high=101.0,
            low=99.0,
            close=draw(_prices),
            volume=draw(st.sampled_from([0.0, 1.0])),
        )
        for i in range(n)
    )
    qty = Decimal(draw(_decimals))
    position = Position(instrument="ETH-USD", quantity=qty, average_price=Decimal("90"))
    return DecisionContext(
        instrument=ETH,
        as_of=bars[-1].ts + timedelta(seconds=draw(st.sampled_from([0, 30, 90]))),
        bars=bars,
        indicators=draw(st.dictionaries(st.sampled_from(["rsi_14", "sma_20"]), _prices)),
        position=position,
        portfolio=Portfolio(
            cash=Decimal(draw(_decimals)),
            positions={"ETH-USD": position} if qty else {},
        ),
        memory=tuple(
            PastDecision(
                created_at=END - timedelta(days=1),
                action=draw(st.sampled_from(list(Action))),
                confidence=draw(st.sampled_from([0.5, 0.501, 0.6])),
                outcome_return=draw(st.sampled_from([None, 0.0, -0.0, 0.01])),
            )
            for _ in range(draw(st.integers(0, 2)))
        ),
    )


@given(_contexts(), _contexts(), st.sampled_from([2, 30]))
def test_different_prompts_never_share_a_key(
    a: DecisionContext, b: DecisionContext, max_bars: int
) -> None:
    if render_prompt(a, max_bars=max_bars) != render_prompt(b, max_bars=max_bars):
        assert prompt_key(a, max_bars=max_bars) != prompt_key(b, max_bars=max_bars)


def test_the_prompt_text_is_pinned_per_version() -> None:
    """The key hashes the prompt's inputs, not its text: a change to the template (or to the
    indicators) must come with a new PROMPT_VERSION, or cached votes would answer new prompts."""
    rendered = prompt_hash(render_prompt(BASE))
    assert PROMPT_FINGERPRINTS.get(PROMPT_VERSION) == rendered, (
        "the rendered prompt changed: bump PROMPT_VERSION and pin its fingerprint here"
    )


def test_a_signed_zero_outcome_shows_and_keys_differently() -> None:
    def with_outcome(x: float) -> DecisionContext:
        return _context(memory=(BASE.memory[0].model_copy(update={"outcome_return": x}),))

    plus, minus = with_outcome(0.0), with_outcome(-0.0)
    assert render_prompt(plus) != render_prompt(minus)  # "+0.00%" and "-0.00%"
    assert prompt_key(plus) != prompt_key(minus)


def test_the_key_of_a_context_is_pinned() -> None:
    """Votes cached by an earlier release stay reachable: the key of BASE (built by the
    release before the replayed key was added) does not move when the key's code does."""
    assert prompt_key(BASE) == "6facca435c8f8ae575374ea3d2100f4f9430583b764aec404c6eaf38849d3c49"
    assert (
        prompt_key(BASE, max_bars=5)
        == "9d76d63a13484246fde0da7d765e95b039ead8023bf3345f0cd426918c8a2411"
    )


def test_the_key_of_a_context_with_known_and_pending_outcomes_is_pinned() -> None:
    """A memory holding a scored decision and a pending one (each written into the key's text
    its own way) keeps the key the release before this code gave it."""
    m = BASE.memory[0]
    earlier = PastDecision(
        created_at=m.created_at - timedelta(hours=1), action=Action.SELL, confidence=0.4
    )
    ctx = _context(memory=(m.model_copy(update={"outcome_return": -0.015}), earlier))
    assert prompt_key(ctx) == "9f8bfcd0943eea91fee0b46fc51fbb328a55f50f8b4a63596d6a9a092b6a3d32"
    assert (
        prompt_key(ctx, max_bars=5)
        == "83bd924bbf634a2321b433f358ccae802fd8421384c9492d796d82ddb482a492"
    )
