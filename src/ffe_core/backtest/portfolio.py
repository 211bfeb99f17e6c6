"""Multi-asset portfolio backtests: several instruments on one clock and one cash account.

Each instrument follows its own target array (1/0/-1, acted on at changes, at the next bar's
open, as :func:`~ffe_core.backtest.simulator.simulate` does) with its own costs. Entries are
sized by the agent's risk limits (:class:`~ffe_core.config.RiskSettings`) through the same
formula the risk manager uses (:func:`ffe_core.services.risk_limits.limit_room`, compiled):
the position may be at most ``max_position_fraction`` of equity and the entry must keep gross
exposure within ``max_gross_exposure`` and ``max_leverage``. Checked at each close: a loss of
``max_daily_loss`` since the day's first equity closes every position at the next open and
blocks entries for the rest of that day; a drawdown of ``max_drawdown`` from the peak trips the
kill switch: everything is closed and no entry follows. Exits go before entries on a bar.
Positions open at the end are closed at the last close.

With ``protective=True`` every entry carries the stop-loss and take-profit the agent's risk
manager sets (:func:`ffe_core.services.risk_sizing.protective_levels`): the stop
``risk.atr_stop_multiple`` ATR(14)s of the instrument away from the decision bar's close, the
target ``risk.reward_risk`` stop distances on the other side; an entry without an ATR (warm-up)
is not taken, as the risk manager rejects it. Levels are each instrument's own and are checked
on every bar from the entry bar on, with the single-instrument simulator's rule
(:func:`~ffe_core.backtest.fills.sl_tp_exit`: a gap fills at the open; both in range, the stop
wins); a trade they close is not reopened until the instrument's target changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.fills import commission, entry_price, market_fill, sl_tp_exit
from ffe_core.backtest.simulator import FillConfig, RunResult, Trades
from ffe_core.backtest.stats import Calendar, compute_stats
from ffe_core.config import RiskSettings
from ffe_core.domain.errors import ValidationFailed
from ffe_core.indicators import atr
from ffe_core.kernels import kernel
from ffe_core.services.risk_limits import limit_room

FloatArray = npt.NDArray[np.float64]

_room = kernel(limit_room)
# trade table columns
P_INST, P_SIZE, P_EBAR, P_XBAR, P_EPX, P_XPX, P_COM, P_WHY, P_SL, P_TP = range(10)
REASONS = ("signal", "daily_loss", "kill_switch", "end", "stop_loss", "take_profit")
ATR_PERIOD = 14
"""The ATR the risk manager's stops use (``atr_14``)."""


@dataclass(frozen=True)
class PortfolioResult:
    """Portfolio equity, each instrument's contribution (cash + its P&L) and their trades."""

    symbols: tuple[str, ...]
    bars: tuple[Bars, ...]
    equity: FloatArray
    contribution: FloatArray
    """Shape (instruments, bars): starting cash plus the instrument's P&L after costs."""
    trades: tuple[Trades, ...]
    kill_bar: int
    """Bar whose close tripped the kill switch, -1 if it never did."""

    def instrument_run(self, k: int, config: FillConfig) -> RunResult:
        return RunResult(self.trades[k], self.contribution[k], config)


@kernel
def _rec(
    trades: FloatArray,
    nt: int,
    k: int,
    size: float,
    ebar: int,
    xbar: int,
    epx: float,
    xpx: float,
    com: float,
    why: int,
    sl: float,
    tp: float,
) -> None:  # pragma: no cover - compiled
    r = trades[nt]
    r[P_SL] = sl
    r[P_TP] = tp
    r[P_INST] = k
    r[P_SIZE] = size
    r[P_EBAR] = ebar
    r[P_XBAR] = xbar
    r[P_EPX] = epx
    r[P_XPX] = xpx
    r[P_COM] = com
    r[P_WHY] = why


@kernel
def _portfolio(
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    rng: FloatArray,
    target: Any,
    day: Any,
    costs: FloatArray,
    cash: float,
    lim: FloatArray,
    equity: FloatArray,
    contrib: FloatArray,
    trades: FloatArray,
) -> tuple[int, int]:  # pragma: no cover - compiled; exercised through run_portfolio()
    k_n, n = c.shape
    pos_frac, gross_lim, lev_lim, daily, max_dd = lim[0], lim[1], lim[2], lim[3], lim[4]
    stop_mult, reward = lim[5], lim[6]  # stop_mult 0: no protective levels
    pos = np.zeros(k_n)
    sl = np.full(k_n, np.nan)
    tp = np.full(k_n, np.nan)
    epx = np.zeros(k_n)
    ebar = np.zeros(k_n, dtype=np.int64)
    ecom = np.zeros(k_n)
    realized = np.zeros(k_n)
    want = np.zeros(k_n, dtype=np.int64)
    prev_t = np.zeros(k_n, dtype=np.int64)
    pending = np.zeros(k_n, dtype=np.bool_)
    nt = 0
    killed = -1
    flatten = False
    blocked_day = -1
    day_start = cash
    peak = cash
    for i in range(n):
        # exits: wrong side, or everything after a daily-loss or kill-switch trip
        for k in range(k_n):
            if pos[k] == 0.0 or not (flatten or (pending[k] and want[k] != np.sign(pos[k]))):
                continue
            rel, fixed, slip = costs[k, 0], costs[k, 1], costs[k, 3]
            px = market_fill(o[k, i], -1 if pos[k] > 0.0 else 1, slip)
            com = commission(pos[k], px, fixed, rel)
            pnl = pos[k] * (px - epx[k]) - com
            cash += pnl
            realized[k] += pnl
            why = (2 if killed >= 0 else 1) if flatten else 0
            _rec(trades, nt, k, pos[k], ebar[k], i, epx[k], px, com + ecom[k], why, sl[k], tp[k])
            nt += 1
            pos[k] = 0.0
        flatten = False
        # entries, sized by the risk limits at this bar's opens
        if killed < 0 and blocked_day != day[i]:
            for k in range(k_n):
                if not pending[k] or want[k] == 0 or pos[k] != 0.0:
                    continue
                rel, fixed, spread, slip, step = (
                    costs[k, 0],
                    costs[k, 1],
                    costs[k, 2],
                    costs[k, 3],
                    costs[k, 4],
                )
                d = want[k]
                if stop_mult > 0.0:  # the risk manager's levels, from the decision bar
                    dist = stop_mult * rng[k, i - 1]
                    if not dist > 0.0:
                        continue  # no ATR yet: rejected, as the risk manager does
                    sl_k = c[k, i - 1] - d * dist
                    tp_k = c[k, i - 1] + d * reward * dist
                else:
                    sl_k = np.nan
                    tp_k = np.nan
                eq = cash
                gross = 0.0
                for j in range(k_n):
                    if pos[j] != 0.0:
                        eq += pos[j] * (o[j, i] - epx[j])
                        gross += abs(pos[j]) * o[j, i]
                px = entry_price(market_fill(o[k, i], d, slip), d, spread)
                q = _room(pos_frac, eq, 0.0, 1.0, px, rel)
                q = min(q, _room(gross_lim, eq, gross, 1.0, px, rel))
                q = min(q, _room(lev_lim, eq, gross, 1.0, px, rel))
                if step == 1.0:
                    q = math.floor(q)
                elif step > 0.0:
                    q = math.floor(q / step) * step
                if q > 0.0:
                    pos[k] = d * q
                    epx[k] = px
                    ebar[k] = i
                    ecom[k] = commission(q, px, fixed, rel)
                    cash -= ecom[k]
                    realized[k] -= ecom[k]
                    sl[k] = sl_k
                    tp[k] = tp_k
        # protective levels, from the entry bar on
        if stop_mult > 0.0:
            for k in range(k_n):
                if pos[k] == 0.0:
                    continue
                side = 1 if pos[k] > 0.0 else -1
                px, hit = sl_tp_exit(side, sl[k], tp[k], o[k, i], h[k, i], lo[k, i])
                if hit == 0:
                    continue
                rel, fixed, slip = costs[k, 0], costs[k, 1], costs[k, 3]
                if hit == 1:  # a stop fills as a market order: slippage against it
                    px = market_fill(px, -side, slip)
                com = commission(pos[k], px, fixed, rel)
                pnl = pos[k] * (px - epx[k]) - com
                cash += pnl
                realized[k] += pnl
                _rec(
                    trades,
                    nt,
                    k,
                    pos[k],
                    ebar[k],
                    i,
                    epx[k],
                    px,
                    com + ecom[k],
                    3 + hit,
                    sl[k],
                    tp[k],
                )
                nt += 1
                pos[k] = 0.0
        # mark at the close and take this close's decisions: act on target changes at bars
        # 1..n-2, as simulate does; then the risk checks
        decide = 0 < i < n - 1
        eq = cash
        for k in range(k_n):
            u = pos[k] * (c[k, i] - epx[k]) if pos[k] != 0.0 else 0.0
            eq += u
            contrib[k, i] = realized[k] + u
            t = target[k, i]
            pending[k] = decide and t != prev_t[k]
            if pending[k]:
                prev_t[k] = t
                want[k] = t
        equity[i] = eq
        if i > 0 and day[i] != day[i - 1]:
            day_start = eq  # the day's first recorded equity, as RiskManager.update_equity
        peak = max(peak, eq)
        if killed < 0 and (eq <= 0.0 or eq <= peak * (1.0 - max_dd)):
            killed = i
            flatten = True
        elif blocked_day != day[i] and eq <= day_start * (1.0 - daily):
            blocked_day = day[i]
            flatten = True
    last = n - 1
    for k in range(k_n):
        if pos[k] == 0.0:
            continue
        rel, fixed = costs[k, 0], costs[k, 1]
        px = c[k, last]
        com = commission(pos[k], px, fixed, rel)
        _rec(trades, nt, k, pos[k], ebar[k], last, epx[k], px, com + ecom[k], 3, sl[k], tp[k])
        nt += 1
        equity[last] -= com
        contrib[k, last] -= com
    return nt, killed


def common_clock(bars: Sequence[Bars]) -> tuple[Bars, ...]:
    """The bars of every instrument at the times all of them have (one clock)."""
    if any(b.time is None for b in bars):
        if len({len(b) for b in bars}) != 1:
            raise ValidationFailed("untimed instruments must have the same number of bars")
        return tuple(bars)
    times = reduce(np.intersect1d, [b.time for b in bars if b.time is not None])
    if times.size < 2:
        raise ValidationFailed("the instruments share fewer than 2 bar times")
    out = []
    for b in bars:
        idx = np.flatnonzero(np.isin(b.time, times))  # type: ignore[arg-type]
        out.append(Bars(b.open[idx], b.high[idx], b.low[idx], b.close[idx], b.volume[idx], times))
    return tuple(out)


def run_portfolio(
    symbols: Sequence[str],
    bars: Sequence[Bars],
    targets: Sequence[npt.ArrayLike],
    costs: Sequence[FillConfig],
    *,
    cash: float,
    risk: RiskSettings,
    protective: bool = False,
) -> PortfolioResult:
    """Run several instruments' targets on one account; ``bars`` must share one clock
    (see :func:`common_clock`); ``costs[k]`` gives instrument k's commission, spread,
    slippage and unit step. ``protective``: stop-loss and take-profit on every entry, set as
    the risk manager sets them (``risk.atr_stop_multiple``, ``risk.reward_risk``)."""
    k_n = len(bars)
    n = len(bars[0])
    if not (len(symbols) == len(targets) == len(costs) == k_n) or k_n == 0:
        raise ValueError("one symbol, bars, target and cost config per instrument")
    if any(len(b) != n for b in bars):
        raise ValueError("bars must share one clock (use common_clock)")
    o = np.ascontiguousarray(np.vstack([b.open for b in bars]))
    c = np.ascontiguousarray(np.vstack([b.close for b in bars]))
    if protective:
        h = np.ascontiguousarray(np.vstack([b.high for b in bars]))
        lo = np.ascontiguousarray(np.vstack([b.low for b in bars]))
        rng = np.vstack([atr(b.high, b.low, b.close, ATR_PERIOD) for b in bars])
    else:  # never read without levels: no copies
        h = lo = o
        rng = np.zeros((k_n, 1))
    tgt = np.ascontiguousarray(np.vstack([np.asarray(t, dtype=np.int8) for t in targets]))
    if tgt.shape != (k_n, n):
        raise ValueError(f"targets must have one value per bar ({n})")
    cost = np.array(
        [[f.commission, f.commission_fixed, f.spread, f.slippage, f.unit_step] for f in costs]
    )
    t0 = bars[0].time
    day = (
        np.zeros(n, dtype=np.int64)
        if t0 is None
        else t0.astype("datetime64[D]").view(np.int64).copy()
    )
    lim = np.array(
        [
            risk.max_position_fraction,
            risk.max_gross_exposure,
            risk.max_leverage,
            risk.max_daily_loss,
            risk.max_drawdown,
            risk.atr_stop_multiple if protective else 0.0,
            risk.reward_risk,
        ]
    )
    changes = int(np.count_nonzero(tgt[:, 1:] != tgt[:, :-1]))
    table = np.empty((changes + k_n + 1, 10))
    equity = np.empty(n)
    contrib = np.empty((k_n, n))
    nt, killed = _portfolio(
        o, h, lo, c, rng, tgt, day, cost, float(cash), lim, equity, contrib, table
    )
    contrib += cash
    t = table[:nt]
    per: list[Trades] = []
    for k in range(k_n):
        r = t[t[:, P_INST] == k]
        r = r[np.argsort(r[:, P_XBAR], kind="stable")]
        per.append(
            Trades(
                size=r[:, P_SIZE].copy(),
                entry_bar=r[:, P_EBAR].astype(np.int64),
                exit_bar=r[:, P_XBAR].astype(np.int64),
                entry_price=r[:, P_EPX].copy(),
                exit_price=r[:, P_XPX].copy(),
                sl=r[:, P_SL].copy(),
                tp=r[:, P_TP].copy(),
                commission=r[:, P_COM].copy(),
                reason=r[:, P_WHY].astype(np.int64),
            )
        )
    return PortfolioResult(tuple(symbols), tuple(bars), equity, contrib, tuple(per), int(killed))


def exit_counts(reasons: npt.ArrayLike) -> dict[str, int]:
    """How many trades ended for each reason (:data:`REASONS`), the reasons that occurred."""
    counts = np.bincount(np.asarray(reasons, dtype=np.int64), minlength=len(REASONS))
    return {why: int(k) for why, k in zip(REASONS, counts, strict=True) if k}


def _all_trades(trades: Sequence[Trades]) -> Trades:
    def cat(name: str) -> Any:
        return np.concatenate([getattr(t, name) for t in trades])

    names = ("size", "entry_bar", "exit_bar", "entry_price", "exit_price", "sl", "tp")
    return Trades(**{f: cat(f) for f in (*names, "commission", "reason")})


def portfolio_stats(
    result: PortfolioResult, costs: Sequence[FillConfig], *, warmup: int = 0
) -> dict[str, Any]:
    """Statistics of the whole account (Buy & Hold: an equal-weight basket) and per instrument
    (each on its contribution curve), as ``compute_stats`` computes them."""
    b0 = result.bars[0]
    cal = Calendar.of(b0)
    basket = np.mean([b.close / b.close[0] for b in result.bars], axis=0)
    index = Bars(basket, basket, basket, basket, b0.volume, b0.time)
    whole = RunResult(_all_trades(result.trades), result.equity, costs[0])
    out: dict[str, Any] = {
        "portfolio": compute_stats(whole, index, warmup=warmup, calendar=cal),
        "instruments": {
            s: compute_stats(
                result.instrument_run(k, costs[k]), result.bars[k], warmup=warmup, calendar=cal
            )
            for k, s in enumerate(result.symbols)
        },
        "kill_switch_bar": result.kill_bar if result.kill_bar >= 0 else None,
    }
    return out
