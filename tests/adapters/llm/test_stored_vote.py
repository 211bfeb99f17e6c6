"""A stored vote's signal read by msgspec is the vote's own: a miss exactly when the vote is."""

from __future__ import annotations

import struct

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from ffe_adapters.llm.stored_vote import _Stored, stored_signal, stored_vote
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.ports.providers import Signal

STRINGS = ['""', '"p"', '"BUY"', '"buy"', '"\\u00e9"', '"\\ud83d\\ude00"', '"\\ud800"', '"\\x"']
STRINGS += [f'"{c * n}"' for c in ("x", "\u00e9", "\U0001f600") for n in (63, 64, 65)]
STRINGS += [f'"{"x" * n}"' for n in (3999, 4000, 4001, 7999, 8000, 8001)]
NUMBERS = ["0", "-0", "0.0", "-0.0", "1", "1.0", "1E0", "0.5", "0.6", "1.0000000000000002"]
NUMBERS += ["2", "-1", "-1e-320", "5e-324", "1e-400", "1e308", "1e309", "01", "1.", ".5", "NaN"]
NUMBERS += ["0.1000000000000000055511151231257827021181583404541015625", "12345678901234567890"]
NUMBERS += ["99999999999999999999999", "0.30000000000000004440892098500626161694526672363281251"]
OTHERS = ["null", "true", "false", '"0.5"', '"1.5"', "[]", "{}", '{"a": 1}']
FIELDS = [*ProviderVote.model_fields, "extra", "Provider"]
VALUES = st.sampled_from(STRINGS + NUMBERS + OTHERS) | st.floats(allow_nan=False).map(repr)
VALUES |= st.integers(-(10**20), 10**20).map(str) | st.floats(0, 1).map(repr)
ACTIONS = st.sampled_from(['"BUY"', '"SELL"', '"HOLD"', '"buy"', '"Buy"', "1", "null"])


def _signal_of_vote(raw: bytes) -> Signal | None:
    vote = stored_vote(raw)
    return None if vote is None else Signal(vote.action, vote.confidence, vote.abstained)


def _same(got: Signal | None, want: Signal | None) -> bool:
    """Equal, and the confidences bit for bit (-0.0 and 0.0 key differently later)."""
    if got is None or want is None:
        return got is want
    bits = struct.Struct("d").pack
    return got == want and bits(got.confidence) == bits(want.confidence)


@st.composite
def stored_json(draw: st.DrawFn) -> bytes:
    """A vote's JSON with some fields invalid, missing, repeated or unknown, some bytes off."""
    fields = {"provider": '"llm"', "action": draw(ACTIONS), "confidence": "0.6"}
    if draw(st.booleans()):
        del fields[draw(st.sampled_from(list(fields)))]
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=6)):
        fields[name] = draw(ACTIONS if name == "action" else VALUES)
    items = [f'"{k}":{v}' for k, v in fields.items()]
    if draw(st.booleans()):  # a field repeated: the last one counts
        items.append(f'"{draw(st.sampled_from(FIELDS))}":{draw(VALUES)}')
    text = ("{" + draw(st.sampled_from([",", ", "])).join(items) + "}").encode()
    if draw(st.integers(0, 3)) == 0:  # damaged: a byte replaced, or the text cut short
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from([b"", b"\xff", b"\n", b"\x00", b"}", b'"']))
    return text


@seed(21)
@settings(max_examples=1500)
@given(stored_json())
def test_the_signal_is_the_stored_votes_and_misses_alike(raw: bytes) -> None:
    assert _same(stored_signal(raw), _signal_of_vote(raw))


def test_the_decoded_fields_are_the_votes() -> None:
    """A field added to the vote must be added to its decoded form (or every entry misses
    there and is read by the vote's validation)."""
    assert _Stored.__struct_fields__ == tuple(ProviderVote.model_fields)


def test_each_invalid_entry_is_a_miss() -> None:
    valid = '"provider":"llm","action":"BUY","confidence":0.6'
    for bad in (
        '"provider":"","confidence":0.6',
        f'{valid},"confidence":1.5',
        f'{valid},"confidence":-0.1',
        f'{valid},"reasoning":"{"x" * 4001}"',
        f'{valid},"raw_answer":"{"x" * 8001}"',
        f'{valid},"stop_loss":0',
        f'{valid},"take_profit":-1',
        f'{valid},"latency_ms":1e999',
        f'{valid},"tokens_in":-1',
        f'{valid},"cost_usd":-0.5',
        f'{valid},"abstained":true',
        f'{valid},"extra":1',
        '"provider":"llm","action":"buy"',
    ):
        raw = ("{" + bad + "}").encode()
        assert stored_vote(raw) is None and stored_signal(raw) is None, raw
    for cut in (b"", b"{", b"null", b"[]", b'{"provider":"llm"', b'{"provider":"\xff"}'):
        assert stored_signal(cut) is None
    assert stored_signal(("{" + valid + "}").encode()) == Signal(Action.BUY, 0.6, False)


def test_what_msgspec_leaves_is_read_as_the_vote() -> None:
    """Strings for numbers, whole floats for counts and a reasoned abstention: valid votes
    the stricter decoding rejects, read by the vote's validation."""
    for lax in (
        '{"provider":"llm","action":"SELL","confidence":"0.25"}',
        '{"provider":"llm","tokens_in":3.0,"stop_loss":"1.5"}',
        '{"provider":"llm","abstained":true,"abstain_reason":"no view"}',
    ):
        raw = lax.encode()
        assert stored_signal(raw) == _signal_of_vote(raw) is not None
