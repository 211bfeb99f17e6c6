"""The compiled simulator's bookkeeping for market orders, advanced one bar at a time.

The event-driven replay cannot hand the whole target array to the numba kernel up front: the
decision at bar ``i`` depends on the position the providers see, which depends on the fills
before it. :class:`ReplayBook` therefore steps through the same rules as
``simulator._kernel`` (edge-triggered targets from bar 1, next-open or on-close fills booked
on the next bar, SL/TP inside the bar, closing at the end unless ``finalize`` is off, stopping
when broke) and prices every fill with the functions of
:mod:`ffe_core.backtest.fills`, so a target sequence gives identical trades and equity here and
in :func:`~ffe_core.backtest.simulator.simulate`. Limit and stop entries are not modelled:
decisions become market orders.
"""

from __future__ import annotations

import math

import numpy as np

from ffe_core.backtest.data import Bars
from ffe_core.backtest.fills import commission, entry_price, market_fill, order_size, sl_tp_exit
from ffe_core.backtest.simulator import FillConfig, FloatArray, RunResult, _trades_from_table

_NAN = math.nan


class ReplayBook:
    """One instrument's cash, position and closed trades under a :class:`FillConfig`.

    Per bar call :meth:`open_bar` (fills at the open, SL/TP inside the bar), then
    :meth:`close_bar` with the target decided at the close; :meth:`result` ends the run.
    """

    def __init__(self, bars: Bars, config: FillConfig) -> None:
        self._o, self._h, self._lo, self._c = bars.open, bars.high, bars.low, bars.close
        self.n = len(bars)
        self.cfg = config
        self.cash = float(config.cash)
        self.pos = 0.0
        self.epx = 0.0
        self.ebar = 0
        self.sl = _NAN
        self.tp = _NAN
        self.want = 0
        self.prev_target = 0
        self.pending = False
        self.broke = False
        self.fills = 0
        """Fills so far; lets callers refresh what they derive from the book only on change."""
        self.equity: FloatArray = np.empty(self.n, dtype=np.float64)
        self._trades: list[tuple[float, ...]] = []

    @property
    def side(self) -> int:
        return 1 if self.pos > 0 else (-1 if self.pos < 0 else 0)

    def _close(self, i: int, px: float, com: float, reason: int) -> None:
        pos, epx = self.pos, self.epx
        fixed, rel = self.cfg.commission_fixed, self.cfg.commission
        self._trades.append(
            (
                pos,
                self.ebar,
                i,
                epx,
                px,
                self.sl,
                self.tp,
                com + commission(pos, epx, fixed, rel),
                reason,
            )
        )
        self.pos = 0.0
        self.fills += 1

    def _exit(self, i: int, px: float, reason: int) -> None:
        com = commission(self.pos, px, self.cfg.commission_fixed, self.cfg.commission)
        self.cash += self.pos * (px - self.epx) - com
        self._close(i, px, com, reason)

    def _enter(self, i: int, px: float, direction: int) -> None:
        cfg = self.cfg
        fixed, rel = cfg.commission_fixed, cfg.commission
        units = order_size(
            self.cash, cfg.size, px, direction, cfg.spread, fixed, rel, cfg.unit_step
        )
        if units <= 0.0:
            return
        self.pos = units * direction
        self.epx = entry_price(px, direction, cfg.spread)
        self.ebar = i
        self.cash -= commission(self.pos, self.epx, fixed, rel)
        self.sl = self.epx * (1.0 - direction * cfg.sl) if cfg.sl > 0.0 else _NAN
        self.tp = self.epx * (1.0 + direction * cfg.tp) if cfg.tp > 0.0 else _NAN
        self.fills += 1

    def open_bar(self, i: int) -> None:
        """Execute a pending transition at bar ``i``'s open, then any SL/TP hit inside it.

        With ``trade_on_close`` the transition fills at bar ``i - 1``'s close, on that bar.
        """
        if self.pending:
            self.pending = False
            on_close = self.cfg.trade_on_close
            mpx = float(self._c[i - 1] if on_close else self._o[i])
            mbar = i - 1 if on_close else i
            side = self.side
            if side != 0 and side != self.want:
                self._exit(mbar, market_fill(mpx, -side, self.cfg.slippage), 0)
            if self.want != 0 and self.pos == 0.0:
                self._enter(mbar, market_fill(mpx, self.want, self.cfg.slippage), self.want)
        if self.pos != 0.0 and not (math.isnan(self.sl) and math.isnan(self.tp)):
            side = self.side
            px, why = sl_tp_exit(side, self.sl, self.tp, self._o[i], self._h[i], self._lo[i])
            if why != 0:
                if why == 1:
                    px = market_fill(px, -side, self.cfg.slippage)
                self._exit(i, px, why)

    def close_bar(self, i: int, target: int) -> None:
        """Act on ``target`` decided at bar ``i``'s close and mark equity at that close."""
        ci = float(self._c[i])
        if target != self.prev_target and 0 < i < self.n - 1:
            self.prev_target = self.want = target
            self.pending = True
        eq = self.cash + (ci * self.pos - self.pos * self.epx)
        self.equity[i] = eq
        if eq <= 0.0:
            # Out of money: close at this close paying the exit commission, and stop, as the
            # kernel (and backtesting.py) does.
            if self.pos != 0.0:
                com = commission(self.pos, ci, self.cfg.commission_fixed, self.cfg.commission)
                self._close(i, ci, com, 3)
            self.equity[i:] = 0.0
            self.broke = True

    def result(self) -> RunResult:
        """Close a position still open on the last bar (with ``finalize``); return the run."""
        if self.pos != 0.0 and not self.broke and self.cfg.finalize:
            last = self.n - 1
            px = float(self._c[last] if self.cfg.trade_on_close else self._o[last])
            self._exit(last, px, 3)
            self.equity[last] = self.cash
        table = np.array(self._trades, dtype=np.float64).reshape(len(self._trades), 9)
        return RunResult(_trades_from_table(table), self.equity, self.cfg)
