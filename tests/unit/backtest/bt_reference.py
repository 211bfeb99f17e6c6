"""backtesting.py driven by a target array, for differential tests of ffe's simulator.

:class:`FollowTarget` is a backtesting.py strategy that expresses ffe's target semantics with
backtesting.py's own orders (``buy``/``sell``/``close``/``cancel``, SL/TP brackets), so its
trades and equity come from backtesting.py's broker. It peeks at the next bar only to give a
market entry's SL/TP as prices (ffe takes them as fractions of the fill).

:func:`random_case` draws seeded bars and orders: random targets, limit/stop/stop-limit levels,
SL/TP, costs, gaps, flat bars, tiny and huge prices.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

bt = pytest.importorskip("backtesting")

from ffe_core.backtest.data import Bars, make_bars  # noqa: E402
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate  # noqa: E402

FULL_EQUITY = 1 - sys.float_info.epsilon
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Case:
    """One differential case: bars, per-bar target and entry levels, and the fill settings."""

    seed: int
    df: pd.DataFrame
    target: npt.NDArray[np.int8]
    limit: FloatArray
    stop: FloatArray
    config: FillConfig
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def bars(self) -> Bars:
        d = self.df
        return make_bars(d.Open, d.High, d.Low, d.Close, d.Volume, d.index.values)


class FollowTarget(bt.Strategy):  # type: ignore[misc]
    """Acts at each bar's ``next()`` on changes of ``target`` as ffe's simulator does."""

    target: Any = None
    limit: Any = None
    stop: Any = None
    opens: Any = None
    sl_pct = 0.0
    tp_pct = 0.0
    frac = FULL_EQUITY
    spread = 0.0
    on_close = False

    def init(self) -> None:
        self._prev = 0
        self._bracketed: set[int] = set()

    def _levels(self, entry: float, d: int) -> tuple[float | None, float | None]:
        sl = entry * (1.0 - d * self.sl_pct) if self.sl_pct > 0 else None
        tp = entry * (1.0 + d * self.tp_pct) if self.tp_pct > 0 else None
        return sl, tp

    def next(self) -> None:
        i = len(self.data) - 1
        if i >= len(self.target) - 1:
            return  # ffe ignores a change on the last bar (no bar left to fill on)
        # A limit/stop entry filled on this bar gets its SL/TP now: active from the next bar.
        for tr in self.trades:
            if id(tr) not in self._bracketed:
                self._bracketed.add(id(tr))
                if tr.sl is None and tr.tp is None:
                    sl, tp = self._levels(tr.entry_price, 1 if tr.size > 0 else -1)
                    tr.sl, tr.tp = sl, tp
        t = int(self.target[i])
        if t == self._prev:
            return
        self._prev = t
        for o in self.orders:
            if not o.is_contingent:
                o.cancel()
        for tr in self.trades:
            if (1 if tr.size > 0 else -1) != t:
                tr.close()
        if t == 0 or any((1 if tr.size > 0 else -1) == t for tr in self.trades):
            return
        lv, sv = float(self.limit[i]), float(self.stop[i])
        place = self.buy if t > 0 else self.sell
        if math.isnan(lv) and math.isnan(sv):
            order = place(size=self.frac)
            fill = float(self.data.Close[-1] if self.on_close else self.opens[i + 1])
            entry = fill * (1 + math.copysign(self.spread, t))
            sl, tp = self._levels(entry, t)
            # Given as prices through the private setter: backtesting.py validates SL/TP
            # against the current close, which a gap at the next open can cross.
            order._replace(sl_price=sl, tp_price=tp)
        else:
            place(
                size=self.frac,
                limit=None if math.isnan(lv) else lv,
                stop=None if math.isnan(sv) else sv,
            )


def run_backtesting_py(case: Case) -> Any:
    """backtesting.py's result (stats Series with ``_trades``, ``_equity_curve``) for a case."""
    cfg = case.config
    params = {
        "target": case.target,
        "limit": case.limit,
        "stop": case.stop,
        "opens": case.df.Open.to_numpy(),
        "sl_pct": cfg.sl,
        "tp_pct": cfg.tp,
        "frac": min(cfg.size, FULL_EQUITY),
        "spread": cfg.spread,
        "on_close": cfg.trade_on_close,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strategy = type("Follow", (FollowTarget,), params)
        return bt.Backtest(
            case.df,
            strategy,
            cash=cfg.cash,
            commission=(cfg.commission_fixed, cfg.commission),
            spread=cfg.spread,
            trade_on_close=cfg.trade_on_close,
            finalize_trades=cfg.finalize,
        ).run()


def run_ffe(case: Case) -> RunResult:
    return simulate(case.bars, case.target, case.config, limit=case.limit, stop=case.stop)


def _bars(rng: np.random.Generator, n: int, gaps: bool) -> pd.DataFrame:
    scale = 10 ** rng.uniform(-3, 5)  # from fractions of a cent to 100k
    vol = rng.choice([0.005, 0.02, 0.06, 0.25])
    close = scale * np.exp(np.cumsum(rng.normal(0, vol, n)))
    prev = np.r_[close[0] * np.exp(rng.normal(0, vol)), close[:-1]]
    open_ = prev * np.exp(rng.normal(0, vol, n)) if gaps else prev.copy()
    high = np.maximum(open_, close) * (1 + rng.uniform(0, vol, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, vol, n))
    flat = rng.random(n) < 0.1
    flat[0] = False
    for i in np.flatnonzero(flat):  # a bar without trades: everything at the last close
        open_[i] = high[i] = low[i] = close[i] = close[i - 1]
        if not gaps and i + 1 < n:
            open_[i + 1] = close[i]
            high[i + 1] = max(high[i + 1], open_[i + 1])
            low[i + 1] = min(low[i + 1], open_[i + 1])
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.DataFrame(
        {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": np.ones(n)},
        index=index,
    )


def _targets(rng: np.random.Generator, n: int, short: bool) -> npt.NDArray[np.int8]:
    sides = np.array([-1, 0, 1] if short else [0, 1], dtype=np.int8)
    change = rng.random(n) < rng.uniform(0.05, 0.4)
    picks = rng.choice(sides, n)
    out = np.zeros(n, dtype=np.int8)
    state = int(rng.choice(sides))
    for i in range(n):
        if change[i]:
            state = int(picks[i])
        out[i] = state
    return out


def random_case(seed: int, *, kind: str) -> Case:
    """A seeded case. ``kind``: ``market`` (market entries, gaps), ``orders`` (limit and stop
    entries, gaps), ``stop_limit`` (every entry type, no gaps, stops beyond the close)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 160))
    gaps = kind != "stop_limit"
    df = _bars(rng, n, gaps)
    short = bool(rng.random() < 0.6)
    target = _targets(rng, n, short)
    c = df.Close.to_numpy()
    limit = np.full(n, np.nan)
    stop = np.full(n, np.nan)
    on_close = bool(rng.random() < 0.4)
    if kind != "market":
        d = np.where(target == 0, 1, target).astype(float)
        off = rng.uniform(0.0, 0.05, n)
        which = rng.choice(np.array(["market", "limit", "stop", "stop_limit"]), n)
        if kind == "orders":
            which[which == "stop_limit"] = "limit"
            if on_close:  # documented difference: stop entries gap-fill at the open in ffe
                which[which == "stop"] = "market"
            # a level may sit on either side of the close: some fill on the next bar's open
            side = np.where(rng.random(n) < 0.8, 1.0, -1.0)
        else:
            side = np.ones(n)
        lim = c * (1 - d * side * off)
        stp = c * (1 + d * side * rng.uniform(1e-4, 0.05, n))
        limit = np.where((which == "limit") | (which == "stop_limit"), lim, np.nan)
        stop = np.where((which == "stop") | (which == "stop_limit"), stp, np.nan)
        sl_lim = which == "stop_limit"
        # a stop-limit's limit beyond its stop, or inside it (then it waits as a limit)
        limit[sl_lim] = stp[sl_lim] * (1 + d[sl_lim] * rng.uniform(-0.02, 0.02, sl_lim.sum()))
    price = float(c[0])
    cash = float(price * rng.choice([0.5, 3.0, 50.0, 1e4]))  # from "can't buy one" to plenty
    cfg = FillConfig(
        cash=cash,
        commission=float(rng.choice([0.0, 0.0005, 0.002, 0.01])),
        commission_fixed=float(rng.choice([0.0, 0.0, cash * 1e-4])),
        spread=float(rng.choice([0.0, 0.0, 0.001, 0.004])),
        size=float(rng.choice([1.0, 1.0, 0.5, 0.1])),
        trade_on_close=on_close,
        sl=float(rng.choice([0.0, 0.0, 0.01, 0.05])),
        tp=float(rng.choice([0.0, 0.0, 0.02, 0.1])),
        finalize=bool(rng.random() < 0.7),
    )
    return Case(seed, df, target, limit, stop, cfg, {"kind": kind, "gaps": gaps})
