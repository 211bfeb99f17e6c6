"""Seeded random order scripts run by backtesting.py and by ffe's order-level Strategy.

A script lists, per bar, actions written once against the API both share (``buy``/``sell``
with limit, stop, SL/TP and size in units or as a fraction, ``Trade.close(portion)``,
``Trade.sl``/``tp`` assignment, ``Order.cancel()``, ``position.close()``) plus a trailing stop
applied the way backtesting.py's ``TrailingStrategy`` does. :class:`Script` interprets it inside
either framework's ``next``, so both brokers see the same decisions.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

bt = pytest.importorskip("backtesting")

from ffe_core.backtest.data import Bars, make_bars  # noqa: E402
from ffe_core.backtest.orders import BrokerConfig, Strategy, run_strategy  # noqa: E402
from ffe_core.backtest.simulator import FillConfig, RunResult  # noqa: E402

from .bt_reference import _bars  # noqa: E402

Action = tuple[Any, ...]


@dataclass(frozen=True)
class OrderCase:
    seed: int
    df: pd.DataFrame
    script: dict[int, list[Action]]
    config: BrokerConfig
    trail: float

    @property
    def bars(self) -> Bars:
        d = self.df
        return make_bars(d.Open, d.High, d.Low, d.Close, d.Volume, d.index.values)


class Script:
    """Mixin: ``next`` performs this bar's scripted actions, then trails stops."""

    script: Any = None
    trail = 0.0

    def _act(self, a: Action, c: float) -> None:
        kind = a[0]
        if kind in ("buy", "sell"):
            _, size, lim, stp, sl, tp = a
            d = 1.0 if kind == "buy" else -1.0
            kw: dict[str, Any] = {"size": size}
            if not math.isnan(lim):
                kw["limit"] = c * (1 - d * lim)
            if not math.isnan(stp):
                kw["stop"] = c * (1 + d * stp)
            if not math.isnan(sl):
                kw["sl"] = c * (1 - d * sl)
            if not math.isnan(tp):
                kw["tp"] = c * (1 + d * tp)
            if self.trail and isinstance(self, Strategy):
                kw["trail"] = self.trail
            with contextlib.suppress(ValueError):  # SL/TP on the wrong side: both refuse
                (self.buy if kind == "buy" else self.sell)(**kw)  # type: ignore[attr-defined]
        elif kind == "close_trade" and self.trades:  # type: ignore[attr-defined]
            self.trades[a[1] % len(self.trades)].close(a[2])  # type: ignore[attr-defined]
        elif kind == "cancel" and self.orders:  # type: ignore[attr-defined]
            self.orders[a[1] % len(self.orders)].cancel()  # type: ignore[attr-defined]
        elif kind in ("set_sl", "set_tp") and self.trades:  # type: ignore[attr-defined]
            t = self.trades[a[1] % len(self.trades)]  # type: ignore[attr-defined]
            d = 1.0 if t.size > 0 else -1.0
            if kind == "set_sl":
                t.sl = c * (1 - d * a[2])
            else:
                t.tp = c * (1 + d * a[2])
        elif kind == "close_position":
            self.position.close(a[1])  # type: ignore[attr-defined]

    def next(self) -> None:
        i = len(self.data) - 1  # type: ignore[attr-defined]
        c = float(self.data.Close[-1])  # type: ignore[attr-defined]
        for a in self.script.get(i, ()):
            self._act(a, c)
        if self.trail and not isinstance(self, Strategy):
            for t in self.trades:  # type: ignore[attr-defined]
                level = c * (1 - self.trail) if t.size > 0 else c * (1 + self.trail)
                cur = t.sl
                if cur is not None:
                    level = max(cur, level) if t.size > 0 else min(cur, level)
                t.sl = level


class BtScript(Script, bt.Strategy):  # type: ignore[misc]
    def init(self) -> None:
        pass


class FfeScript(Script, Strategy):
    pass


def _action(rng: np.random.Generator) -> Action:
    kind = str(rng.choice(["entry"] * 5 + ["close_trade", "cancel", "set_sl", "set_tp", "pos"]))
    if kind == "entry":
        side = "buy" if rng.random() < 0.6 else "sell"
        size = (
            float(rng.choice([0.99, 0.5, 0.2])) if rng.random() < 0.6 else float(rng.integers(1, 4))
        )
        which = rng.choice(["market", "market", "limit", "stop", "stop_limit"])
        nan = math.nan
        lim = float(rng.uniform(-0.01, 0.04)) if which in ("limit", "stop_limit") else nan
        stp = float(rng.uniform(0.001, 0.04)) if which in ("stop", "stop_limit") else nan
        sl = float(rng.uniform(0.005, 0.08)) if rng.random() < 0.4 else nan
        tp = float(rng.uniform(0.005, 0.12)) if rng.random() < 0.4 else nan
        return (side, size, lim, stp, sl, tp)
    if kind == "close_trade":
        return ("close_trade", int(rng.integers(0, 5)), float(rng.choice([1.0, 0.5, 0.3])))
    if kind == "cancel":
        return ("cancel", int(rng.integers(0, 5)))
    if kind in ("set_sl", "set_tp"):
        return (kind, int(rng.integers(0, 5)), float(rng.uniform(0.005, 0.08)))
    return ("close_position", float(rng.choice([1.0, 1.0, 0.5])))


def random_order_case(seed: int) -> OrderCase:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 120))
    df = _bars(rng, n, gaps=bool(rng.random() < 0.7))
    rate = float(rng.uniform(0.05, 0.4))
    script = {
        i: [_action(rng) for _ in range(int(rng.integers(1, 3)))]
        for i in range(n)
        if rng.random() < rate
    }
    price = float(df.Close.iloc[0])
    cash = float(price * rng.choice([3.0, 20.0, 1e3]))
    fill = FillConfig(
        cash=cash,
        commission=float(rng.choice([0.0, 0.0005, 0.002])),
        commission_fixed=float(rng.choice([0.0, 0.0, cash * 1e-4])),
        spread=float(rng.choice([0.0, 0.0, 0.001])),
        trade_on_close=bool(rng.random() < 0.3),
        finalize=bool(rng.random() < 0.7),
    )
    config = BrokerConfig(
        fill,
        margin=float(rng.choice([1.0, 1.0, 0.5, 0.1])),
        hedging=bool(rng.random() < 0.2),
        exclusive_orders=bool(rng.random() < 0.2),
    )
    trail = float(rng.choice([0.0, 0.0, 0.02, 0.05]))
    return OrderCase(seed, df, script, config, trail)


def run_bt(case: OrderCase) -> Any:
    f = case.config.fill
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strategy = type("S", (BtScript,), {"script": case.script, "trail": case.trail})
        return bt.Backtest(
            case.df,
            strategy,
            cash=f.cash,
            commission=(f.commission_fixed, f.commission),
            spread=f.spread,
            margin=case.config.margin,
            trade_on_close=f.trade_on_close,
            hedging=case.config.hedging,
            exclusive_orders=case.config.exclusive_orders,
            finalize_trades=f.finalize,
        ).run()


def run_ours(case: OrderCase) -> RunResult:
    return run_strategy(case.bars, FfeScript, case.config, script=case.script, trail=case.trail)
