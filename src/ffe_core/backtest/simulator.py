"""The compiled fill simulator: target positions per bar in, trades and an equity curve out.

A strategy says, at each bar's close, which side it wants (1 long, -1 short, 0 flat). The
simulator acts on *changes* of that target (edge-triggered), as a backtesting.py strategy's
``next()`` would: decisions start at bar 1 (backtesting.py's first ``next()``; the target at
bar 0 is not acted on) and end at bar n-2 (a change on the last bar has no bar to fill on). A change at bar ``i`` closes a position on the
wrong side and opens one on the new side, at bar ``i + 1``'s open by default or, with
``trade_on_close``, at bar ``i``'s close booked when bar ``i + 1`` is processed (see
:mod:`ffe_core.backtest.fills` for every pricing rule). After a stop-loss or take-profit exit
the simulator stays flat until the target changes again. With ``finalize`` (the default) a
position still open at the end is closed on the last bar (at its open, as backtesting.py's
``finalize_trades=True`` does; at its close with ``trade_on_close``) and counts as a trade;
without it the position stays open, out of the trade list, valued in the equity curve.

Entries may be limit or stop orders: give ``limit`` / ``stop`` arrays of price levels (NaN =
market); the level at the bar of the change applies, the order is working from the next bar
until it fills or the target changes, and its SL/TP become active on the bar after its fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.fills import (
    commission,
    entry_price,
    limit_fill,
    market_fill,
    order_size,
    sl_tp_exit,
    stop_fill,
)
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]

# Columns of the kernel's trade table.
SIZE, ENTRY_BAR, EXIT_BAR, ENTRY_PRICE, EXIT_PRICE, SL, TP, COMMISSION, REASON = range(9)
EXIT_REASONS = ("signal", "stop_loss", "take_profit", "end")


@dataclass(frozen=True)
class FillConfig:
    """How orders fill. Fractions are of price or equity (0.001 = 0.1 %)."""

    cash: float = 10_000.0
    commission: float = 0.0
    commission_fixed: float = 0.0
    spread: float = 0.0
    slippage: float = 0.0
    size: float = 1.0
    """Fraction of equity per entry, in (0, 1]."""
    unit_step: float = 1.0
    """1 trades whole units; 0 fractional units; other values trade multiples of it."""
    trade_on_close: bool = False
    sl: float = 0.0
    """Stop-loss distance as a fraction of the entry price (0 = none)."""
    tp: float = 0.0
    """Take-profit distance as a fraction of the entry price (0 = none)."""
    finalize: bool = True
    """Close a position still open at the end and count it (backtesting.py's ``finalize_trades``)."""

    def __post_init__(self) -> None:
        if not self.cash > 0:
            raise ValueError(f"cash must be > 0, got {self.cash}")
        if not 0 < self.size <= 1:
            raise ValueError(f"size must be a fraction in (0, 1], got {self.size}")
        for name in ("commission_fixed", "spread", "slippage", "unit_step", "sl", "tp"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not -0.1 <= self.commission < 0.1:
            raise ValueError(f"commission must be in [-0.1, 0.1), got {self.commission}")


@dataclass(frozen=True)
class Trades:
    """Closed trades as parallel arrays (one element per trade)."""

    size: FloatArray
    entry_bar: IntArray
    exit_bar: IntArray
    entry_price: FloatArray
    exit_price: FloatArray
    sl: FloatArray
    tp: FloatArray
    commission: FloatArray
    reason: IntArray

    def __len__(self) -> int:
        return int(self.size.shape[0])

    @property
    def pnl(self) -> FloatArray:
        """Profit in cash after both commissions."""
        return self.size * (self.exit_price - self.entry_price) - self.commission

    @property
    def return_pct(self) -> FloatArray:
        """Return as a fraction of the entry value, after commissions (backtesting.py's)."""
        gross = np.sign(self.size) * (self.exit_price / self.entry_price - 1)
        return gross - self.commission / (np.abs(self.size) * self.entry_price)


@dataclass(frozen=True)
class RunResult:
    """One simulation: the trades, the equity at each bar's close, and what produced them."""

    trades: Trades
    equity: FloatArray
    config: FillConfig


@kernel
def _record(
    trades: FloatArray,
    nt: int,
    pos: float,
    ebar: int,
    xbar: int,
    epx: float,
    xpx: float,
    sl: float,
    tp: float,
    com: float,
    why: int,
) -> None:  # pragma: no cover - compiled
    r = trades[nt]
    r[0] = pos
    r[1] = ebar
    r[2] = xbar
    r[3] = epx
    r[4] = xpx
    r[5] = sl
    r[6] = tp
    r[7] = com
    r[8] = why


@kernel
def _kernel(
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    target: Int8Array,
    limit: FloatArray,
    stop: FloatArray,
    cash: float,
    rel: float,
    fixed: float,
    spread: float,
    slip: float,
    frac: float,
    step: float,
    on_close: bool,
    sl_pct: float,
    tp_pct: float,
    finalize: bool,
    equity: FloatArray,
    trades: FloatArray,
    quiet_bars: bool,
) -> int:  # pragma: no cover - compiled; exercised through simulate()
    n = c.shape[0]
    has_limit = limit.shape[0] == n
    has_stop = stop.shape[0] == n
    pos = 0.0
    epx = 0.0
    ebar = 0
    sl = math.nan
    tp = math.nan
    want = 0
    prev_t = 0
    pending = False  # a market transition decided on the previous bar
    ord_on = False  # a limit/stop entry is working
    ord_dir = 0
    ord_lim = math.nan
    ord_stp = math.nan
    nt = 0
    broke = False
    quiet = True  # nothing pending or working: a bar whose target is unchanged only books equity
    for i in range(n):
        if quiet and quiet_bars and target[i] == prev_t:
            eq = cash + (c[i] * pos - pos * epx)
            equity[i] = eq
            # The open is read on every bar (an always-true test on finite bars) so the
            # hardware prefetcher streams it: the fill after a change reads the next open,
            # which would otherwise miss the cache (~70 ns on each change).
            if eq > 0.0 and o[i] == o[i]:
                continue
            # out of money (or NaN): the full body below books this bar again, the same way
        oi = o[i]
        ci = c[i]
        filled_by_order = False
        if pending:
            # Decided at bar i-1's close; booked now, as backtesting.py's broker does: at this
            # open, or with trade_on_close at bar i-1's close (and on bar i-1 in the trade list).
            pending = False
            mpx = c[i - 1] if on_close else oi
            mbar = i - 1 if on_close else i
            side = 1 if pos > 0 else (-1 if pos < 0 else 0)
            if side != 0 and side != want:
                px = market_fill(mpx, -side, slip)
                com = commission(pos, px, fixed, rel)
                cash += pos * (px - epx) - com
                _record(
                    trades,
                    nt,
                    pos,
                    ebar,
                    mbar,
                    epx,
                    px,
                    sl,
                    tp,
                    com + commission(pos, epx, fixed, rel),
                    0,
                )
                nt += 1
                pos = 0.0
            if want != 0 and pos == 0.0 and not ord_on:
                px = market_fill(mpx, want, slip)
                units = order_size(cash, frac, px, want, spread, fixed, rel, step)
                if units > 0.0:
                    pos = units * want
                    epx = entry_price(px, want, spread)
                    ebar = mbar
                    cash -= commission(pos, epx, fixed, rel)
                    sl = epx * (1.0 - want * sl_pct) if sl_pct > 0.0 else math.nan
                    tp = epx * (1.0 + want * tp_pct) if tp_pct > 0.0 else math.nan
        if ord_on and pos == 0.0:
            hi = h[i]
            li = lo[i]
            px = math.nan
            if not math.isnan(ord_stp):
                trig = stop_fill(ord_stp, ord_dir, oi, hi, li)
                if not math.isnan(trig):
                    if math.isnan(ord_lim):
                        px = market_fill(trig, ord_dir, slip)
                    else:
                        # Stop-limit: both touched in one bar -> assume the limit came first
                        # (not filled this bar); the order then works as a plain limit.
                        hit = not math.isnan(limit_fill(ord_lim, ord_dir, oi, hi, li))
                        before = ord_lim <= ord_stp if ord_dir > 0 else ord_lim >= ord_stp
                        ord_stp = math.nan
                        if hit and not before:
                            px = min(trig, ord_lim) if ord_dir > 0 else max(trig, ord_lim)
            elif not math.isnan(ord_lim):
                px = limit_fill(ord_lim, ord_dir, oi, hi, li)
            if not math.isnan(px):
                units = order_size(cash, frac, px, ord_dir, spread, fixed, rel, step)
                ord_on = False
                if units > 0.0:
                    pos = units * ord_dir
                    epx = entry_price(px, ord_dir, spread)
                    ebar = i
                    cash -= commission(pos, epx, fixed, rel)
                    sl = epx * (1.0 - ord_dir * sl_pct) if sl_pct > 0.0 else math.nan
                    tp = epx * (1.0 + ord_dir * tp_pct) if tp_pct > 0.0 else math.nan
                    filled_by_order = True
        if pos != 0.0 and not filled_by_order and not (math.isnan(sl) and math.isnan(tp)):
            side = 1 if pos > 0 else -1
            px, why = sl_tp_exit(side, sl, tp, oi, h[i], lo[i])
            if why != 0:
                if why == 1:
                    px = market_fill(px, -side, slip)
                com = commission(pos, px, fixed, rel)
                cash += pos * (px - epx) - com
                _record(
                    trades,
                    nt,
                    pos,
                    ebar,
                    i,
                    epx,
                    px,
                    sl,
                    tp,
                    com + commission(pos, epx, fixed, rel),
                    why,
                )
                nt += 1
                pos = 0.0
        t = int(target[i])
        # The first decision comes at bar 1 (backtesting.py's first next()), the last at n-2.
        if t != prev_t and 0 < i < n - 1:
            prev_t = t
            want = t
            ord_on = False
            lv = limit[i] if has_limit else math.nan
            sv = stop[i] if has_stop else math.nan
            if want != 0 and not (math.isnan(lv) and math.isnan(sv)):
                ord_on = True
                ord_dir = want
                ord_lim = lv
                ord_stp = sv
            pending = True
        quiet = not pending and not ord_on and (pos == 0.0 or (math.isnan(sl) and math.isnan(tp)))
        eq = cash + (ci * pos - pos * epx)
        equity[i] = eq
        if eq <= 0.0:
            # Out of money: close everything at this close (paying the exit commission) and
            # stop, as backtesting.py does.
            if pos != 0.0:
                _record(
                    trades,
                    nt,
                    pos,
                    ebar,
                    i,
                    epx,
                    ci,
                    sl,
                    tp,
                    commission(pos, ci, fixed, rel) + commission(pos, epx, fixed, rel),
                    3,
                )
                nt += 1
                pos = 0.0
            for j in range(i, n):
                equity[j] = 0.0
            broke = True
            break
    if pos != 0.0 and not broke and finalize:
        last = n - 1
        px = c[last] if on_close else o[last]
        com = commission(pos, px, fixed, rel)
        cash += pos * (px - epx) - com
        _record(
            trades,
            nt,
            pos,
            ebar,
            last,
            epx,
            px,
            sl,
            tp,
            com + commission(pos, epx, fixed, rel),
            3,
        )
        nt += 1
        equity[last] = cash
    return nt


_EMPTY = np.empty(0, dtype=np.float64)


@kernel
def _changes(target: Int8Array) -> int:  # pragma: no cover - compiled
    # How often the target changes from one bar to the next (bounds the trades), without the
    # two temporary arrays of the numpy expression.
    k = 0
    for i in range(1, target.shape[0]):
        k += target[i] != target[i - 1]
    return k


def _level_array(x: npt.ArrayLike | None, n: int, name: str) -> FloatArray:
    if x is None:
        return _EMPTY
    arr = np.ascontiguousarray(x, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one value per bar ({n}), got shape {arr.shape}")
    return arr


def simulate(
    bars: Bars,
    target: npt.ArrayLike,
    config: FillConfig | None = None,
    *,
    limit: npt.ArrayLike | None = None,
    stop: npt.ArrayLike | None = None,
    quiet_bars: bool = True,
) -> RunResult:
    """Run the fill model over ``bars`` following per-bar ``target`` positions (1/0/-1).

    ``quiet_bars`` books a bar on which nothing can happen (target unchanged, no order, stop
    or target working) with one test and the equity; False sends every bar through the full
    body (the reference that shortcut is tested against).
    """
    cfg = config or FillConfig()
    n = len(bars)
    tgt = np.ascontiguousarray(target, dtype=np.int8)
    if tgt.shape != (n,):
        raise ValueError(f"target must have one value per bar ({n}), got shape {tgt.shape}")
    table = np.empty((_changes(tgt) + 3, 9), dtype=np.float64)
    equity = np.empty(n, dtype=np.float64)
    nt = _kernel(
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        tgt,
        _level_array(limit, n, "limit"),
        _level_array(stop, n, "stop"),
        float(cfg.cash),
        float(cfg.commission),
        float(cfg.commission_fixed),
        float(cfg.spread),
        float(cfg.slippage),
        float(cfg.size),
        float(cfg.unit_step),
        bool(cfg.trade_on_close),
        float(cfg.sl),
        float(cfg.tp),
        bool(cfg.finalize),
        equity,
        table,
        quiet_bars,
    )
    return RunResult(_trades_from_table(table[:nt]), equity, cfg)


def _trades_from_table(t: FloatArray) -> Trades:
    return Trades(
        size=t[:, SIZE].copy(),
        entry_bar=t[:, ENTRY_BAR].astype(np.int64),
        exit_bar=t[:, EXIT_BAR].astype(np.int64),
        entry_price=t[:, ENTRY_PRICE].copy(),
        exit_price=t[:, EXIT_PRICE].copy(),
        sl=t[:, SL].copy(),
        tp=t[:, TP].copy(),
        commission=t[:, COMMISSION].copy(),
        reason=t[:, REASON].astype(np.int64),
    )
