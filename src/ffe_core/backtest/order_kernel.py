"""The order-level broker, compiled: backtesting.py 0.6's ``_Broker`` rules over plain arrays.

All state lives in one tuple of arrays, the *book* (see :func:`new_book`), so the same kernels
serve a numba-compiled ``next`` (called from :func:`run_compiled`) and the Python
:class:`ffe_core.backtest.orders.Strategy` (which calls :func:`step` once per bar). Orders sit
in a queue processed in order, as in backtesting.py: stop-loss and ``close`` orders go to the
front, everything else to the back; a market entry carrying SL/TP makes the queue be processed
again on the same bar. Sizes are units (``frac`` 0) or fractions of available margin
(``frac`` 1), signed (negative sells). Trailing stops move a trade's stop-loss to
``close * (1 -+ trail)`` after each bar's ``next`` when that is tighter (backtesting.py's
``TrailingStrategy`` rule with a fraction instead of ATRs).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.fills import commission, entry_price, floordiv
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Book = tuple[Any, ...]

# order columns
O_SIZE, O_FRAC, O_LIMIT, O_STOP, O_SL, O_TP, O_TRAIL, O_PARENT, O_PSERIAL, O_KIND = range(10)
O_SERIAL, O_ALIVE = 10, 11
ORDER_COLS = 12
KIND_ENTRY, KIND_SL, KIND_TP, KIND_CLOSE = 0, 1, 2, 3
# trade columns
T_SIZE, T_ENTRY, T_BAR, T_SL, T_TP, T_TRAIL, T_SERIAL, T_ALIVE = range(8)
TRADE_COLS = 8
# closed-trade columns (the simulator's trade table)
CLOSED_COLS = 9
# ints
N_QUEUE, N_ACTIVE, N_CLOSED, SERIAL, N_FREE_O, N_FREE_T, ERROR, N_CANCELED, BROKE = range(9)
# acct
CASH, LAST = 0, 1
# cfg
C_SPREAD, C_FIXED, C_REL, C_LEVERAGE, C_STEP, C_ON_CLOSE, C_SLIP, C_HEDGING, C_EXCLUSIVE = range(9)
ERR_FULL, ERR_INVALID = 1, 2


def new_book(cash: float, cfg: FloatArray, orders: int = 256, trades: int = 256) -> Book:
    """An empty book with room for ``orders`` working orders and ``trades`` open trades."""
    ords = np.zeros((orders, ORDER_COLS))
    trd = np.zeros((trades, TRADE_COLS))
    ints = np.zeros(9, dtype=np.int64)
    ints[N_FREE_O] = orders
    ints[N_FREE_T] = trades
    acct = np.array([cash, math.nan])
    free_o = np.arange(orders - 1, -1, -1, dtype=np.int64)
    free_t = np.arange(trades - 1, -1, -1, dtype=np.int64)
    closed = np.zeros((64, CLOSED_COLS))
    queue = np.zeros(orders, dtype=np.int64)
    active = np.zeros(trades, dtype=np.int64)
    scratch = np.zeros((orders, 2))
    return (ords, queue, trd, active, closed, ints, acct, cfg, free_o, free_t, scratch)


SPARE = 64
"""Free order and trade slots kept before each bar (a ``next`` may place this many orders)."""


def _grow_slots(table: Any, line: Any, free: Any, nfree: int) -> tuple[Any, Any, Any]:
    cap = table.shape[0]
    big = np.zeros((2 * cap, table.shape[1]))
    big[:cap] = table
    big_line = np.zeros(2 * cap, dtype=np.int64)
    big_line[:cap] = line
    big_free = np.zeros(2 * cap, dtype=np.int64)
    big_free[:nfree] = free[:nfree]
    big_free[nfree : nfree + cap] = np.arange(2 * cap - 1, cap - 1, -1)
    return big, big_line, big_free


def grow(book: Book) -> Book:
    """The book with :data:`SPARE` free slots beyond what closing every trade needs, and room
    in the closed-trade table for a bar's fills."""
    ords, queue, trd, active, closed, ints, acct, cfg, free_o, free_t, scratch = book
    while ints[N_FREE_O] < SPARE + ints[N_ACTIVE]:  # room to close every trade, and more
        ords, queue, free_o = _grow_slots(ords, queue, free_o, int(ints[N_FREE_O]))
        ints[N_FREE_O] += ords.shape[0] // 2
        scratch = np.zeros((ords.shape[0], 2))
    if ints[N_FREE_T] < SPARE:
        trd, active, free_t = _grow_slots(trd, active, free_t, int(ints[N_FREE_T]))
        ints[N_FREE_T] += trd.shape[0] // 2
    n = int(ints[N_CLOSED])
    need = int((ints[N_QUEUE] + 2) * (ints[N_ACTIVE] + 2))
    if closed.shape[0] - n < need:
        bigger = np.zeros((max(2 * closed.shape[0], n + need), CLOSED_COLS))
        bigger[:n] = closed[:n]
        closed = bigger
    return (ords, queue, trd, active, closed, ints, acct, cfg, free_o, free_t, scratch)


@kernel
def _queue_remove(book: Book, slot: int) -> None:  # pragma: no cover - compiled
    ords, queue, ints, free_o = book[0], book[1], book[5], book[8]
    nq = ints[N_QUEUE]
    k = 0
    while k < nq and queue[k] != slot:
        k += 1
    if k == nq:
        return
    for j in range(k, nq - 1):
        queue[j] = queue[j + 1]
    ints[N_QUEUE] = nq - 1
    ords[slot, O_ALIVE] = 0.0
    free_o[ints[N_FREE_O]] = slot
    ints[N_FREE_O] += 1


@kernel
def _new_order(
    book: Book,
    size: float,
    frac: float,
    limit: float,
    stop: float,
    sl: float,
    tp: float,
    trail: float,
    parent: int,
    kind: int,
    front: bool,
) -> int:  # pragma: no cover - compiled
    ords, queue, trd, ints, free_o = book[0], book[1], book[2], book[5], book[8]
    if ints[N_FREE_O] == 0:
        ints[ERROR] = ERR_FULL
        return -1
    ints[N_FREE_O] -= 1
    s = free_o[ints[N_FREE_O]]
    ints[SERIAL] += 1
    r = ords[s]
    r[O_SIZE] = size
    r[O_FRAC] = frac
    r[O_LIMIT] = limit
    r[O_STOP] = stop
    r[O_SL] = sl
    r[O_TP] = tp
    r[O_TRAIL] = trail
    r[O_PARENT] = parent
    r[O_PSERIAL] = trd[parent, T_SERIAL] if parent >= 0 else -1.0
    r[O_KIND] = kind
    r[O_SERIAL] = ints[SERIAL]
    r[O_ALIVE] = 1.0
    nq = ints[N_QUEUE]
    if front:
        for j in range(nq, 0, -1):
            queue[j] = queue[j - 1]
        queue[0] = s
    else:
        queue[nq] = s
    ints[N_QUEUE] = nq + 1
    return int(s)


@kernel
def cancel(book: Book, slot: int) -> None:  # pragma: no cover - compiled
    """Cancel a working order; a cancelled SL/TP leaves its trade without one."""
    ords, trd = book[0], book[2]
    if ords[slot, O_ALIVE] == 0.0:
        return
    _queue_remove(book, slot)
    p = int(ords[slot, O_PARENT])
    kind = int(ords[slot, O_KIND])
    if p >= 0 and kind == KIND_SL:
        trd[p, T_SL] = -1.0
    elif p >= 0 and kind == KIND_TP:
        trd[p, T_TP] = -1.0


@kernel
def set_sl(book: Book, t: int, price: float) -> None:  # pragma: no cover - compiled
    """Replace trade ``t``'s stop-loss with a stop at ``price`` (NaN: remove it)."""
    trd = book[2]
    if trd[t, T_SL] >= 0:
        cancel(book, int(trd[t, T_SL]))
    if not math.isnan(price):
        nan = math.nan
        s = _new_order(book, -trd[t, T_SIZE], 0.0, nan, price, nan, nan, 0.0, t, KIND_SL, True)
        trd[t, T_SL] = s


@kernel
def set_tp(book: Book, t: int, price: float) -> None:  # pragma: no cover - compiled
    """Replace trade ``t``'s take-profit with a limit at ``price`` (NaN: remove it)."""
    trd = book[2]
    if trd[t, T_TP] >= 0:
        cancel(book, int(trd[t, T_TP]))
    if not math.isnan(price):
        nan = math.nan
        s = _new_order(book, -trd[t, T_SIZE], 0.0, price, nan, nan, nan, 0.0, t, KIND_TP, False)
        trd[t, T_TP] = s


@kernel
def close_trade(book: Book, t: int, portion: float) -> None:  # pragma: no cover - compiled
    """Queue a market order closing ``portion`` of trade ``t`` (whole units are rounded)."""
    trd, cfg = book[2], book[7]
    size = trd[t, T_SIZE]
    if cfg[C_STEP] == 1.0:
        units = max(1.0, float(round(abs(size) * portion)))
    else:
        units = abs(size) * portion
    nan = math.nan
    _new_order(book, math.copysign(units, -size), 0.0, nan, nan, nan, nan, 0.0, t, 3, True)


@kernel
def close_position(book: Book, portion: float) -> None:  # pragma: no cover - compiled
    """Close ``portion`` of every open trade."""
    active, ints = book[3], book[5]
    for k in range(ints[N_ACTIVE]):
        close_trade(book, active[k], portion)


@kernel
def position_size(book: Book) -> float:  # pragma: no cover - compiled
    """The summed signed size of the open trades."""
    trd, active, ints = book[2], book[3], book[5]
    total = 0.0
    for k in range(ints[N_ACTIVE]):
        total += trd[active[k], T_SIZE]
    return total


@kernel
def equity(book: Book, price: float) -> float:  # pragma: no cover - compiled
    """Cash plus the open trades valued at ``price``."""
    trd, active, ints, acct = book[2], book[3], book[5], book[6]
    units = 0.0
    cost = 0.0
    for k in range(ints[N_ACTIVE]):
        r = trd[active[k]]
        units += r[T_SIZE]
        cost += r[T_SIZE] * r[T_ENTRY]
    # summed as backtesting.py sums it, so equal inputs give bit-equal equity
    return float(acct[CASH] + (price * units - cost))


@kernel
def _margin_available(book: Book, price: float) -> float:  # pragma: no cover - compiled
    trd, active, ints, cfg = book[2], book[3], book[5], book[7]
    used = 0.0
    for k in range(ints[N_ACTIVE]):
        used += abs(trd[active[k], T_SIZE]) * price / cfg[C_LEVERAGE]
    return max(0.0, equity(book, price) - used)


@kernel
def place(
    book: Book,
    size: float,
    frac: float,
    limit: float,
    stop: float,
    sl: float,
    tp: float,
    trail: float,
) -> int:  # pragma: no cover - compiled
    """Place an entry order (NaN = unset); its slot, or -1 when SL/limit/TP are out of order.

    The check is backtesting.py's: a long needs ``sl < limit or stop or close < tp``.
    """
    ints, acct, cfg, ords = book[5], book[6], book[7], book[0]
    ref = limit if not math.isnan(limit) else (stop if not math.isnan(stop) else math.nan)
    if math.isnan(ref):
        ref = acct[LAST] * (1.0 + math.copysign(cfg[C_SPREAD], size))
    lo = sl if size > 0 else tp
    hi = tp if size > 0 else sl
    if not ((math.isnan(lo) or lo < ref) and (math.isnan(hi) or ref < hi)):
        ints[ERROR] = ERR_INVALID
        return -1
    if cfg[C_EXCLUSIVE] != 0.0:
        # backtesting.py cancels while iterating over the queue it removes from, so the order
        # after each cancelled one survives; kept for equal results
        k = 0
        while k < ints[N_QUEUE]:
            s = book[1][k]
            if ords[s, O_KIND] != KIND_SL and ords[s, O_KIND] != KIND_TP:
                cancel(book, s)
            k += 1
        for k in range(ints[N_ACTIVE]):
            close_trade(book, book[3][k], 1.0)
    return _new_order(book, size, frac, limit, stop, sl, tp, trail, -1, KIND_ENTRY, False)


@kernel
def _active_remove(book: Book, t: int) -> None:  # pragma: no cover - compiled
    trd, active, ints, free_t = book[2], book[3], book[5], book[9]
    n = ints[N_ACTIVE]
    k = 0
    while k < n and active[k] != t:
        k += 1
    for j in range(k, n - 1):
        active[j] = active[j + 1]
    ints[N_ACTIVE] = n - 1
    trd[t, T_ALIVE] = 0.0
    free_t[ints[N_FREE_T]] = t
    ints[N_FREE_T] += 1


@kernel
def _new_trade(
    book: Book, size: float, price: float, bar: int, trail: float
) -> int:  # pragma: no cover - compiled
    trd, active, ints, free_t = book[2], book[3], book[5], book[9]
    if ints[N_FREE_T] == 0:
        ints[ERROR] = ERR_FULL
        return -1
    ints[N_FREE_T] -= 1
    t = free_t[ints[N_FREE_T]]
    ints[SERIAL] += 1
    r = trd[t]
    r[T_SIZE] = size
    r[T_ENTRY] = price
    r[T_BAR] = bar
    r[T_SL] = -1.0
    r[T_TP] = -1.0
    r[T_TRAIL] = trail
    r[T_SERIAL] = ints[SERIAL]
    r[T_ALIVE] = 1.0
    active[ints[N_ACTIVE]] = t
    ints[N_ACTIVE] += 1
    return int(t)


@kernel
def _close(book: Book, t: int, price: float, bar: int, why: int) -> None:  # pragma: no cover
    ords, trd, closed, ints, acct, cfg = book[0], book[2], book[4], book[5], book[6], book[7]
    _active_remove(book, t)
    sl = math.nan
    tp = math.nan
    if trd[t, T_SL] >= 0:
        s = int(trd[t, T_SL])
        sl = ords[s, O_STOP]
        _queue_remove(book, s)
    if trd[t, T_TP] >= 0:
        s = int(trd[t, T_TP])
        tp = ords[s, O_LIMIT]
        _queue_remove(book, s)
    size = trd[t, T_SIZE]
    entry = trd[t, T_ENTRY]
    fixed, rel = cfg[C_FIXED], cfg[C_REL]
    com = commission(size, price, fixed, rel)
    acct[CASH] += size * (price - entry) - com
    nc = ints[N_CLOSED]
    if nc >= closed.shape[0]:
        ints[ERROR] = ERR_FULL
        return
    r = closed[nc]
    r[0] = size
    r[1] = trd[t, T_BAR]
    r[2] = bar
    r[3] = entry
    r[4] = price
    r[5] = sl
    r[6] = tp
    r[7] = com + commission(size, entry, fixed, rel)
    r[8] = why
    ints[N_CLOSED] = nc + 1


@kernel
def _reduce(
    book: Book, t: int, price: float, size: float, bar: int, why: int
) -> None:  # pragma: no cover - compiled
    ords, trd = book[0], book[2]
    left = trd[t, T_SIZE] + size
    if abs(left) <= 1e-12 * abs(trd[t, T_SIZE]):
        _close(book, t, price, bar, why)
        return
    trd[t, T_SIZE] = left
    if trd[t, T_SL] >= 0:
        ords[int(trd[t, T_SL]), O_SIZE] = -left
    if trd[t, T_TP] >= 0:
        ords[int(trd[t, T_TP]), O_SIZE] = -left
    part = _new_trade(book, -size, trd[t, T_ENTRY], int(trd[t, T_BAR]), 0.0)
    if part >= 0:
        _close(book, part, price, bar, why)


@kernel
def _units(book: Book, r: FloatArray, apc: float, close: float) -> float:  # pragma: no cover
    """An order's signed units: its size, or its fraction of the available margin."""
    cfg = book[7]
    size = r[O_SIZE]
    if r[O_FRAC] == 0.0:
        return float(size)
    budget = _margin_available(book, close) * cfg[C_LEVERAGE] * abs(size)
    step = cfg[C_STEP]
    if step == 1.0:
        units = floordiv(budget, apc)
    elif step <= 0.0:
        units = budget / apc
    else:
        units = math.floor(budget / (apc * step)) * step
    return math.copysign(units, size)


@kernel
def _process(
    book: Book, i: int, o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray
) -> None:  # pragma: no cover - compiled
    ords, queue, trd, active, ints, cfg = book[0], book[1], book[2], book[3], book[5], book[7]
    op, hi, low = o[i], h[i], lo[i]
    on_close = cfg[C_ON_CLOSE] != 0.0
    nan = math.nan
    snap = book[10]  # the queue as it was when a pass began: (slot, serial) rows
    again = ints[N_QUEUE] > 0
    while again:
        again = False
        nq = ints[N_QUEUE]
        for k in range(nq):
            snap[k, 0] = queue[k]
            snap[k, 1] = ords[queue[k], O_SERIAL]
        for k in range(nq):
            s = int(snap[k, 0])
            r = ords[s]
            if r[O_ALIVE] == 0.0 or r[O_SERIAL] != snap[k, 1]:
                continue
            size = r[O_SIZE]
            long = size > 0
            stop = r[O_STOP]
            limit = r[O_LIMIT]
            kind = int(r[O_KIND])
            contingent = kind in (KIND_SL, KIND_TP)
            if not math.isnan(stop):
                if not (hi >= stop if long else low <= stop):
                    continue
                r[O_STOP] = nan
            if not math.isnan(limit):
                hit = low <= limit if long else hi >= limit
                before = hit and (limit <= stop if long else limit >= stop)
                if not hit or before:
                    continue
                base = op if math.isnan(stop) else stop
                price = min(base, limit) if long else max(base, limit)
            else:
                price = c[i - 1] if on_close and not contingent else op
                if not math.isnan(stop):
                    price = max(price, stop) if long else min(price, stop)
                price *= 1.0 + math.copysign(cfg[C_SLIP], size)
            market = math.isnan(limit) and math.isnan(stop)
            bar = i - 1 if market and on_close and not contingent else i
            p = int(r[O_PARENT])
            if p >= 0:
                if trd[p, T_ALIVE] != 0.0 and trd[p, T_SERIAL] == r[O_PSERIAL]:
                    prev = trd[p, T_SIZE]
                    part = math.copysign(min(abs(prev), abs(size)), size)
                    if kind == KIND_SL:
                        r[O_STOP] = stop  # recorded as the trade's SL, as backtesting.py does
                    why = 1 if kind == KIND_SL else (2 if kind == KIND_TP else 0)
                    _reduce(book, p, price, part, bar, why)
                if kind == KIND_CLOSE:
                    _queue_remove(book, s)
                continue
            spread, fixed, rel, lev = cfg[C_SPREAD], cfg[C_FIXED], cfg[C_REL], cfg[C_LEVERAGE]
            adj = entry_price(price, 1 if size > 0.0 else -1, spread)
            apc = adj + commission(size, price, fixed, rel) / abs(size)
            need = _units(book, r, apc, c[i])
            if need == 0.0:
                ints[N_CANCELED] += 1
                _queue_remove(book, s)
                continue
            if cfg[C_HEDGING] == 0.0:
                na = ints[N_ACTIVE]
                tsnap = active[:na].copy()
                for k2 in range(na):
                    t = tsnap[k2]
                    tsize = trd[t, T_SIZE]
                    if (tsize > 0) == long:
                        continue
                    if abs(need) >= abs(tsize):
                        _close(book, t, price, bar, 0)
                        need += tsize
                    else:
                        _reduce(book, t, price, need, bar, 0)
                        need = 0.0
                    if need == 0.0 or abs(need) <= 1e-12 * abs(tsize):
                        need = 0.0
                        break
            if abs(need) * apc > _margin_available(book, c[i]) * lev:
                ints[N_CANCELED] += 1
                _queue_remove(book, s)
                continue
            if need != 0.0:
                sl, tp = r[O_SL], r[O_TP]
                t = _new_trade(book, need, adj, bar, r[O_TRAIL])
                if t >= 0:
                    book[6][CASH] -= commission(need, adj, fixed, rel)
                    set_tp(book, t, tp)
                    set_sl(book, t, sl)
                bracket = not (math.isnan(sl) and math.isnan(tp))
                # a market entry's new SL/TP may fill on this bar; so may a stop entry's TP
                # when it is in range and the SL is not (not ambiguous: same direction)
                stop_tp = (
                    not math.isnan(stop)
                    and math.isnan(limit)
                    and not math.isnan(tp)
                    and (
                        (long and tp <= hi and (math.isnan(sl) or sl < low))
                        or (not long and tp >= low and (math.isnan(sl) or sl > hi))
                    )
                )
                if bracket and (market or stop_tp):
                    again = True
            _queue_remove(book, s)


@kernel
def _trail(book: Book, price: float) -> None:  # pragma: no cover - compiled
    """Move trailing stop-losses to ``price`` -+ the trail when that is tighter."""
    ords, trd, active, ints = book[0], book[2], book[3], book[5]
    for k in range(ints[N_ACTIVE]):
        t = active[k]
        trail = trd[t, T_TRAIL]
        if not trail > 0.0:  # 0 or NaN: no trailing stop
            continue
        long = trd[t, T_SIZE] > 0
        level = price * (1.0 - trail) if long else price * (1.0 + trail)
        cur = ords[int(trd[t, T_SL]), O_STOP] if trd[t, T_SL] >= 0 else math.nan
        if not math.isnan(cur):
            level = max(cur, level) if long else min(cur, level)
        set_sl(book, t, level)


@kernel
def step(
    book: Book,
    i: int,
    start: int,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    out: FloatArray,
) -> bool:  # pragma: no cover - compiled
    """Bar ``i`` before ``next``: trail stops at the previous close, fill orders, book equity.

    Returns True when equity reached zero: every trade is closed at this close and the run ends
    (``out`` zero from ``i``), as backtesting.py does.
    """
    ints, acct = book[5], book[6]
    # guarded here: a call passing the book costs more than an idle bar's work
    if i > start and ints[N_ACTIVE] > 0:
        _trail(book, c[i - 1])
    acct[LAST] = c[i]
    if ints[N_QUEUE] > 0:
        _process(book, i, o, h, lo, c)
    eq = equity(book, c[i])
    out[i] = eq
    if eq > 0.0:
        return False
    # backtesting.py closes trades while iterating over the list it removes them from: every
    # second trade is skipped (it stays out of the trade list); kept for equal results
    k = 0
    while k < ints[N_ACTIVE]:
        _close(book, book[3][k], c[i], i, 3)
        k += 1
    acct[CASH] = 0.0
    out[i:] = 0.0
    ints[BROKE] = 1
    return True


@kernel
def finish(
    book: Book,
    start: int,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    out: FloatArray,
    finalize: bool,
) -> None:  # pragma: no cover - compiled
    """End of data: with ``finalize`` close every trade by re-running the last bar's broker."""
    n = c.shape[0]
    ints = book[5]
    if ints[BROKE] != 0 or start >= n:
        return
    _trail(book, c[n - 1])
    if not finalize:
        return
    for k in range(ints[N_ACTIVE] - 1, -1, -1):
        close_trade(book, book[3][k], 1.0)
    step(book, n - 1, n, o, h, lo, c, out)


@kernel
def room(book: Book) -> bool:  # pragma: no cover - compiled
    """True when a bar can run without a table overflowing (else :func:`grow` the book)."""
    ints, closed = book[5], book[4]
    if ints[N_FREE_O] < SPARE + ints[N_ACTIVE] or ints[N_FREE_T] < SPARE:
        return False
    need = (ints[N_QUEUE] + 2) * (ints[N_ACTIVE] + 2)
    return bool(closed.shape[0] - ints[N_CLOSED] >= need)


@kernel
def run_compiled(
    next_fn: Any,
    book: Book,
    i0: int,
    start: int,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    params: FloatArray,
    state: FloatArray,
    out: FloatArray,
) -> int:  # pragma: no cover - compiled
    """Bars ``i0..n-1`` with a compiled ``next_fn(book, i, o, h, l, c, params, state)``.

    Returns ``n`` when done, or the bar to resume at when the closed-trade table needs room
    (the caller calls :func:`grow` and again), or ``-1`` on an error flagged in the book.
    """
    n = c.shape[0]
    ints, acct = book[5], book[6]
    for i in range(i0, n):
        if not room(book):
            return i
        if ints[N_QUEUE] == 0 and ints[N_ACTIVE] == 0 and acct[CASH] > 0.0:
            acct[LAST] = c[i]  # an idle bar: nothing to fill or value
            out[i] = acct[CASH]
        elif step(book, i, start, o, h, lo, c, out):
            return int(n)
        next_fn(book, i, o, h, lo, c, params, state)
        if ints[ERROR] != 0:
            return -1
    return int(n)
