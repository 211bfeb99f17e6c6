"""The vote cache's key of a prompt: a sha256 of exactly the values the prompt is rendered from.

:func:`prompt_key` hashes a context's values without rendering its prompt, so a cache hit needs
no rendering; :class:`ReplayedKeys` gives the same key for the context a replay would build from
a :class:`~ffe_core.domain.context.ReplayedBar`, without building it (a replay asks it once per
bar). Both feed one sha256 in the same order: a prefix every key of a template version shares,
the decision time and indicators, the shown bars, the memory, then a short text.
"""

from __future__ import annotations

import hashlib
import json
import struct
from array import array
from functools import lru_cache
from operator import is_

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.context_indicators import indicator_arrays, indicators_at
from ffe_core.domain.context import DecisionContext, Recalled, ReplayedBar
from ffe_core.domain.decisions import Action
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.domain.series import BarSeries, bar_rows
from ffe_core.prompts import ANSWER_JSON_SCHEMA, DEFAULT_MAX_BARS, PROMPT_VERSION, SYSTEM_PROMPT


@lru_cache(maxsize=16)
def _key_prefix(max_bars: int) -> bytes:
    """What every prompt of this version shares: template version, system text, answer schema."""
    schema = json.dumps(ANSWER_JSON_SCHEMA, sort_keys=True)
    return "\x00".join(
        ("prompt-key-1", PROMPT_VERSION, SYSTEM_PROMPT, schema, str(max_bars))
    ).encode()


def _or_zero(x: float | None) -> float:
    return 0.0 if x is None else x  # not ``x or 0.0``: -0.0 renders differently from 0.0


def prompt_key(context: DecisionContext, *, max_bars: int = DEFAULT_MAX_BARS) -> str:
    """A sha256 of every value ``render_prompt`` reads from ``context``, without rendering.

    Two contexts whose prompts differ get different keys: the shown bars (times and prices as
    floats), indicators, instrument, decision time, position, account and memory all enter
    with at least the precision the prompt shows them (Decimals as their text, as rendered).
    The template itself enters through :data:`~ffe_core.prompts.PROMPT_VERSION`. A replayed
    context's bars are read as floats from its series (``context.series``, whose bars up to
    the cursor they are): the same key, without a pass over the bar models.
    """
    shown, indicators = context.bars[-max_bars:], context.indicators
    names = sorted(indicators)
    # Every float as its 8 bytes (exact); the text says how many of each there are.
    numbers = array("d", [context.as_of.timestamp(), *[indicators[k] for k in names]])
    at = context.series
    rows: bytes | memoryview = b""
    if at is not None and at.series.time is not None:
        # A replay's context: its bars are the series' up to the cursor, already as floats.
        end, stride = at.index + 1, _ROW_BYTES
        rows = _row_bytes(at.series)[(end - len(shown)) * stride : end * stride]
    else:
        numbers.extend(
            [v for b in shown for v in (b.ts.timestamp(), b.open, b.high, b.low, b.close, b.volume)]
        )
    memory, account = context.memory, (context.position, context.portfolio)
    tail = array("d")
    tail.extend(
        [
            v
            for m in memory
            for v in (m.created_at.timestamp(), m.confidence, _or_zero(m.outcome_return))
        ]
    )
    actions = f"[{', '.join([_PAST_TEXT[m.action, m.outcome_return is None] for m in memory])}]"
    digest = _prefix_digest(max_bars).copy()
    digest.update(numbers)
    digest.update(rows)
    digest.update(tail)
    digest.update(_text(_last_head(context.instrument, names, len(shown)), actions, *account))
    return digest.hexdigest()


def replayed_prompt_key(bar: ReplayedBar, *, max_bars: int = DEFAULT_MAX_BARS) -> str:
    """:func:`prompt_key` of the context a replay builds from ``bar``, without building it
    (:meth:`ReplayedKeys.key` of the bar's series)."""
    return ReplayedKeys.of(bar.at.series, max_bars, bar.with_indicators).key(bar)


class ReplayedKeys:
    """The prompt keys of a replayed series' bars, with what the bars share made once: the
    decision time and indicators of every bar (in name order) and the bars as rows of bytes,
    the text naming the instrument and indicators. The series must know its bars' times.
    """

    def __init__(self, series: BarSeries, max_bars: int, with_indicators: bool) -> None:
        self.series, self.max_bars, self.with_indicators = series, max_bars, with_indicators
        self._rows = _row_bytes(series)
        self.times = series_times(series)
        """Each bar's time, seconds since 1970 (as ``as_of.timestamp()``)."""
        self._prefix = _prefix_digest(max_bars)
        self._stride = _ROW_BYTES
        # A bar's numbers: its time (the first value of its row) ...
        self._names: list[str] = []
        self._numbers, self._numbers_stride, self._width = self._rows, self._stride, 8
        self._finite: list[bool] | None = None
        if with_indicators:  # ... and its indicators, read from a table of their own
            table, finite, self._names = series.derived("prompt_key_indicators", _indicator_table)
            self._numbers = np.ascontiguousarray(table).data.cast("B")
            self._numbers_stride = self._width = table.shape[1] * 8
            self._finite = finite.tolist()
        self._last_memory: tuple[tuple[Recalled, ...], bytes, tuple[bytes, ...]] = ((), b"", ())
        """The last memory keyed, its numbers' bytes and its decisions' texts (replaced whole):
        the next bar's memory is most often this one with a decision in front."""
        self._last_text: tuple[Instrument | None, int, bytes] = (None, 0, b"")
        """The key text's start for an instrument and number of shown bars, as bytes."""
        self._last_account: tuple[Position | None, Portfolio | None, bytes] = (None, None, b"")
        """The key text's end for an account, as bytes."""

    @classmethod
    def of(cls, series: BarSeries, max_bars: int, with_indicators: bool) -> ReplayedKeys:
        """The keys of ``series`` (made once per series and arguments)."""
        return series.derived(
            ("prompt_keys", max_bars, with_indicators),
            lambda s: cls(s, max_bars, with_indicators),
        )

    def key(self, bar: ReplayedBar) -> str:
        """:func:`prompt_key` of the context a replay builds from ``bar`` (a bar of this
        series): a bar where an indicator is still undefined reads its values as the context
        does."""
        i, window, max_bars = bar.at.index, bar.window, self.max_bars
        shown = window if window < max_bars else max_bars
        digest = self._prefix.copy()
        names, finite = self._names, self._finite
        if finite is None or finite[i]:
            start = i * self._numbers_stride
            digest.update(self._numbers[start : start + self._width])
        else:
            values = indicators_at(self.series, i)
            names = sorted(values)
            digest.update(array("d", [self.times[i], *[values[k] for k in names]]))
        stride = self._stride
        digest.update(self._rows[(i + 1 - shown) * stride : (i + 1) * stride])
        # The memory as PastDecision gives it (the bar's time, the confidence, no outcome:
        # 0.0), then the text: its start, each recent decision's part, the account's part.
        memory, texts = self._memory(bar.memory)
        account = self._last_account
        if account[0] is not bar.position or account[1] is not bar.portfolio:
            end = f"], {_account_text(bar.position, bar.portfolio)})".encode()
            account = self._last_account = (bar.position, bar.portfolio, end)
        opening = self._last_text
        if opening[0] is not bar.instrument or opening[1] != shown or names is not self._names:
            opening = (bar.instrument, shown, f"{_head(bar.instrument, names, shown)}[".encode())
            if names is self._names:  # kept only for all the names
                self._last_text = opening
        digest.update(b"".join((memory, opening[2], b", ".join(texts), account[2])))
        return digest.hexdigest()

    def _memory(self, memory: tuple[Recalled, ...]) -> tuple[bytes, tuple[bytes, ...]]:
        """The memory's numbers as the key reads them and each decision's text (as bytes);
        from the last memory when this one is it with one decision in front (a replay
        remembers a decision a bar), so each decision is packed once."""
        last, last_numbers, last_texts = self._last_memory
        n = len(memory)
        # The same decisions, not equal ones: 0.0 and -0.0 are equal and key differently.
        if n and len(last) >= n - 1 and all(map(is_, memory[1:], last)):
            m = memory[0]
            numbers = _RECALLED.pack(self.times[m.bar], m.confidence) + last_numbers[: (n - 1) * 24]
            texts = (_PENDING_BYTES[m.action], *last_texts[: n - 1])
        else:
            times = self.times
            numbers = b"".join([_RECALLED.pack(times[m.bar], m.confidence) for m in memory])
            texts = tuple([_PENDING_BYTES[m.action] for m in memory])
        self._last_memory = (memory, numbers, texts)
        return numbers, texts


def _head(inst: Instrument, names: list[str], shown: int) -> str:
    """The key text's start: repr() of the tuple's first items (symbol, asset class, quote,
    indicator names, shown bars), with the separator that follows them."""
    return f"({inst.symbol!r}, {inst.asset_class.value!r}, {inst.quote!r}, {names!r}, {shown!r}, "


def _text(head: str, actions: str, position: Position, portfolio: Portfolio) -> bytes:
    """The key's text: repr() of the tuple (symbol, asset class, quote, names, shown, actions,
    quantity, average price, cash, currency, positions), the account's part made once per
    account; ``actions`` is the repr() of a list of each recent decision's action and whether
    its outcome is unknown."""
    return f"{head}{actions}, {_account_text(position, portfolio)})".encode()


def _indicator_table(
    series: BarSeries,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], list[str]]:
    """Per bar: its time and its indicators in name order; whether all are defined; the names."""
    columns = series.derived("context_indicator_arrays", indicator_arrays)  # as indicators_at
    names = sorted(columns)
    table = np.column_stack([bar_rows(series)[:, 0], *[columns[k] for k in names]])
    finite = np.asarray(np.isfinite(table).all(axis=1), dtype=np.bool_)
    return table, finite, names


_PAST_TEXT = {(a, unknown): repr((a.value, unknown)) for a in Action for unknown in (True, False)}
"""A recent decision's part of the actions' repr: its action and whether its outcome is unknown
(a replayed one's always is)."""

_PENDING_BYTES = {a: _PAST_TEXT[a, True].encode() for a in Action}
"""A replayed recent decision's part of the actions' repr, as bytes (its outcome is unknown)."""

_RECALLED = struct.Struct("=dd8x")
"""A replayed recent decision's numbers as :func:`prompt_key` feeds them: its time and its
confidence, then its unknown outcome as 0.0 (eight zero bytes), native order as ``array("d")``."""

_ROW_BYTES = 6 * 8
"""Bytes of a bar's row in :func:`_row_bytes`."""


def _row_bytes(series: BarSeries) -> memoryview:
    """:func:`~ffe_core.domain.series.bar_rows` as bytes, a row of :data:`_ROW_BYTES` per bar
    (made once per series)."""
    return series.derived(
        "bar_row_bytes", lambda s: np.ascontiguousarray(bar_rows(s)).data.cast("B")
    )


_kept_head: tuple[Instrument | None, list[str], int, str] = (None, [], 0, "")
"""The last :func:`_head` of :func:`prompt_key`, with its arguments (replaced whole)."""


def _last_head(inst: Instrument, names: list[str], shown: int) -> str:
    """:func:`_head`, the last one kept (a replay asks about one instrument bar after bar)."""
    global _kept_head
    kept = _kept_head
    if kept[0] is inst and kept[2] == shown and kept[1] == names:
        return kept[3]
    text = _head(inst, names, shown)
    _kept_head = (inst, names, shown, text)
    return text


def series_times(series: BarSeries) -> list[float]:
    """The series' bar times as a list (computed once per series; the series must know them)."""
    return series.derived("time_list", lambda s: bar_rows(s)[:, 0].tolist())


_last_account: tuple[Position | None, Portfolio | None, str] = (None, None, "")
"""The last account's text, with its objects (replaced whole, so read consistently)."""


def _account_text(position: Position, portfolio: Portfolio) -> str:
    global _last_account
    last = _last_account
    if last[0] is position and last[1] is portfolio:
        return last[2]
    positions = sorted(
        (k, str(p.quantity), str(p.average_price)) for k, p in portfolio.positions.items()
    )
    parts = (
        str(position.quantity),
        str(position.average_price),
        str(portfolio.cash),
        portfolio.currency,
        positions,
    )
    text = ", ".join(repr(x) for x in parts)
    _last_account = (position, portfolio, text)
    return text


@lru_cache(maxsize=16)
def _prefix_digest(max_bars: int) -> hashlib._Hash:
    """A sha256 fed with what every key of ``max_bars`` starts with (copied per key)."""
    digest = hashlib.sha256(_key_prefix(max_bars))
    digest.update(b"\x00")
    return digest
