"""Order-level strategies: a backtesting.py-like ``Strategy`` (``init``/``next``) and compiled ones.

Both forms drive the one compiled broker of :mod:`ffe_core.backtest.order_kernel`, so they fill
orders exactly as backtesting.py 0.6 does: market, limit, stop and stop-limit entries, sizes in
units or as a fraction of available margin, SL/TP per order, trailing stops, cancel, several
open trades and partial closes. A run returns the same :class:`RunResult` as the target-array
simulator, so statistics and reports are shared.

Write a subclass of :class:`Strategy` (class attributes are parameters) and call
:func:`run_strategy`; or give a numba ``next`` to :func:`run_compiled_strategy`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ffe_core.backtest import order_kernel as ok
from ffe_core.backtest.data import Bars
from ffe_core.backtest.order_handles import (
    Broker,
    BrokerConfig,
    Data,
    Order,
    Position,
    Trade,
    level,
)
from ffe_core.backtest.runner import Params, Runner
from ffe_core.backtest.simulator import FillConfig, RunResult, Trades
from ffe_core.domain.errors import ValidationFailed

__all__ = [
    "FULL_EQUITY",
    "BrokerConfig",
    "CompiledStrategy",
    "Order",
    "OrderRunResult",
    "Position",
    "Strategy",
    "Trade",
    "indicator_start",
    "order_runner",
    "parameters",
    "run_compiled_strategy",
    "run_order_strategy",
    "run_strategy",
]

FloatArray = npt.NDArray[np.float64]
FULL_EQUITY = 1 - sys.float_info.epsilon
_NAN = math.nan


class Strategy:
    """Subclass with ``init()`` (declare indicators with :meth:`I`) and ``next()`` (per bar).

    Class attributes are parameters, overridable in :func:`run_strategy`. As in backtesting.py,
    ``next`` is first called one bar after every indicator has a value, ``self.data`` arrays
    end at the current bar, and indicator attributes are cut the same way.
    """

    params: ClassVar[Sequence[str]] = ()

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self.data = Data(broker.bars)
        self._indicators: list[tuple[str, FloatArray]] = []
        self._pending: list[FloatArray] = []
        self.position = Position(broker)

    def init(self) -> None:
        """Compute indicators (``self.x = self.I(fn, ...)``); full-length data is visible."""

    def next(self) -> None:
        """Decide on the current bar: place, cancel and close orders."""

    def I(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> FloatArray:  # noqa: E743
        """An indicator: ``fn(*args)`` as a float array, sliced to the current bar in ``next``."""
        out = np.asarray(fn(*args, **kwargs), dtype=np.float64)
        self._pending.append(out)
        return out

    @property
    def equity(self) -> float:
        b = self._broker
        return float(ok.equity(b.book, b.bars.close[b.i]))

    @property
    def orders(self) -> tuple[Order, ...]:
        b = self._broker
        q = b.book[1][: b.book[5][ok.N_QUEUE]]
        return tuple(Order(b, int(s)) for s in q)

    @property
    def trades(self) -> tuple[Trade, ...]:
        b = self._broker
        act = b.book[3][: b.book[5][ok.N_ACTIVE]]
        return tuple(Trade(b, int(t)) for t in act)

    def buy(
        self,
        *,
        size: float = FULL_EQUITY,
        units: float | None = None,
        limit: float | None = None,
        stop: float | None = None,
        sl: float | None = None,
        tp: float | None = None,
        trail: float | None = None,
    ) -> Order:
        """Place a long order: ``size`` a fraction of margin (< 1) or whole units (>= 1),
        or ``units`` any number of units; ``trail`` a trailing-stop distance (fraction)."""
        return self._order(1.0, size, units, limit, stop, sl, tp, trail)

    def sell(
        self,
        *,
        size: float = FULL_EQUITY,
        units: float | None = None,
        limit: float | None = None,
        stop: float | None = None,
        sl: float | None = None,
        tp: float | None = None,
        trail: float | None = None,
    ) -> Order:
        """Place a short order; the mirror of :meth:`buy`."""
        return self._order(-1.0, size, units, limit, stop, sl, tp, trail)

    def _order(
        self,
        side: float,
        size: float,
        units: float | None,
        limit: float | None,
        stop: float | None,
        sl: float | None,
        tp: float | None,
        trail: float | None,
    ) -> Order:
        if units is not None:
            if not units > 0:
                raise ValueError(f"units must be > 0, got {units}")
            amount, frac = float(units), 0.0
        else:
            if not (0 < size < 1 or round(size) == size >= 1):
                raise ValueError(
                    "size must be a positive fraction of equity, or a positive whole number of units"
                )
            amount, frac = float(size), float(size < 1)
        b = self._broker
        slot = ok.place(
            b.book,
            side * amount,
            frac,
            level(limit),
            level(stop),
            level(sl),
            level(tp),
            float(trail or 0.0),
        )
        if slot < 0:
            b.book[5][ok.ERROR] = 0
            side_word = "Long" if side > 0 else "Short"
            raise ValueError(f"{side_word} orders require SL < LIMIT/STOP/price < TP (long)")
        return Order(b, int(slot))


@dataclass(frozen=True)
class OrderRunResult(RunResult):
    """A run of an order-level strategy; ``warmup`` is the bars before its first ``next``
    minus one (what :func:`~ffe_core.backtest.stats.compute_stats` takes)."""

    warmup: int = 0


def indicator_start(indicators: Sequence[FloatArray]) -> int:
    """The bar of the first ``next``: one after every indicator has a value (backtesting.py)."""
    warm = max((int(np.isnan(x).argmin(axis=-1).max()) for x in indicators), default=0)
    return 1 + warm


def _result(broker: Broker, equity: FloatArray, start: int, config: BrokerConfig) -> OrderRunResult:
    n = len(broker.bars)
    if start < n:
        equity[:start] = equity[start]
    else:
        equity[:] = config.fill.cash
    book = broker.book
    t = book[4][: book[5][ok.N_CLOSED]]
    trades = Trades(
        size=t[:, 0].copy(),
        entry_bar=t[:, 1].astype(np.int64),
        exit_bar=t[:, 2].astype(np.int64),
        entry_price=t[:, 3].copy(),
        exit_price=t[:, 4].copy(),
        sl=t[:, 5].copy(),
        tp=t[:, 6].copy(),
        commission=t[:, 7].copy(),
        reason=t[:, 8].astype(np.int64),
    )
    return OrderRunResult(trades, equity, config.fill, warmup=min(start, n) - 1)


def run_strategy(
    bars: Bars,
    strategy: type[Strategy],
    config: BrokerConfig | None = None,
    *,
    first: int = 0,
    **params: Any,
) -> OrderRunResult:
    """Run a :class:`Strategy` subclass over ``bars``; ``params`` override class attributes.

    ``first``: the first bar ``next`` may see (earlier bars only warm the indicators)."""
    cfg = config or BrokerConfig()
    for k in params:
        if not hasattr(strategy, k):
            raise ValueError(f"strategy {strategy.__name__} has no parameter {k!r}")
    broker = Broker(bars, cfg)
    strat = type(strategy.__name__, (strategy,), dict(params))(broker)
    strat.init()
    named = {id(v): k for k, v in vars(strat).items() if isinstance(v, np.ndarray)}
    inds = [(named[id(x)], x) for x in strat._pending if id(x) in named]
    n = len(bars)
    start = max(indicator_start([x for _, x in inds]), first)
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close
    equity = np.empty(n)
    data = strat.data
    ints, acct = broker.book[5], broker.book[6]
    for i in range(start, n):
        broker.i = i
        data._n = i + 1
        for name, x in inds:
            setattr(strat, name, x[..., : i + 1])
        if ints[ok.N_QUEUE] == 0 and ints[ok.N_ACTIVE] == 0 and acct[ok.CASH] > 0:
            acct[ok.LAST] = c[i]
            equity[i] = acct[ok.CASH]
        else:
            if (
                ints[ok.N_FREE_O] < ok.SPARE + ints[ok.N_ACTIVE]
                or ints[ok.N_FREE_T] < ok.SPARE
                or broker.book[4].shape[0] - ints[ok.N_CLOSED]
                < (ints[ok.N_QUEUE] + 2) * (ints[ok.N_ACTIVE] + 2)
            ):
                broker.book = ok.grow(broker.book)
            if ok.step(broker.book, i, start, o, h, lo, c, equity):
                break
        strat.next()
        broker.check()
    else:
        broker.book = ok.grow(broker.book)
    data._n = n
    for name, x in inds:
        setattr(strat, name, x)
    ok.finish(broker.book, start, o, h, lo, c, equity, cfg.fill.finalize)
    broker.check()
    return _result(broker, equity, start, cfg)


CompiledNext = Callable[..., None]


@dataclass(frozen=True)
class CompiledStrategy:
    """A numba ``next(book, i, open, high, low, close, ind, params)`` and its inputs.

    ``indicators(bars, **params)`` returns a 2-D float array (one row per indicator) given to
    ``next`` as ``ind``; ``numbers(**params)`` the float parameter vector ``params``.
    """

    next_fn: CompiledNext
    indicators: Callable[..., FloatArray]
    numbers: Callable[..., FloatArray]
    defaults: dict[str, Any]

    def __call__(
        self, bars: Bars, config: BrokerConfig | None = None, **params: Any
    ) -> OrderRunResult:
        """Run it: :func:`run_compiled_strategy`."""
        return run_compiled_strategy(bars, self, config, **params)


def run_compiled_strategy(
    bars: Bars,
    strategy: CompiledStrategy,
    config: BrokerConfig | None = None,
    *,
    first: int = 0,
    **params: Any,
) -> OrderRunResult:
    """Run a :class:`CompiledStrategy`: the whole bar loop in one compiled call (``first``: as
    in :func:`run_strategy`)."""
    from ffe_core.kernels import LazyKernel, compile_kernels

    cfg = config or BrokerConfig()
    unknown = set(params) - set(strategy.defaults)
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    p = {**strategy.defaults, **params}
    ind = np.ascontiguousarray(strategy.indicators(bars, **p), dtype=np.float64)
    nums = np.ascontiguousarray(strategy.numbers(**p), dtype=np.float64)
    start = max(indicator_start(list(ind)), first)
    broker = Broker(bars, cfg)
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close
    n = len(bars)
    equity = np.empty(n)
    compile_kernels()
    fn = strategy.next_fn
    if isinstance(fn, LazyKernel):
        fn = fn.dispatcher
    i = start
    while i < n:
        i = ok.run_compiled(fn, broker.book, i, start, o, h, lo, c, ind, nums, equity)
        if i < 0:
            if broker.book[5][ok.ERROR] == ok.ERR_INVALID:
                raise ValueError("the strategy placed an order with SL/TP on the wrong side")
            broker.check()
        if i < n:
            broker.book = ok.grow(broker.book)
    broker.book = ok.grow(broker.book)
    ok.finish(broker.book, start, o, h, lo, c, equity, cfg.fill.finalize)
    broker.check()
    return _result(broker, equity, start, cfg)


OrderStrategy = CompiledStrategy | type[Strategy]
"""Either form of order-level strategy."""


def parameters(strategy: OrderStrategy) -> dict[str, Any]:
    """The parameters of an order-level strategy and their defaults: a compiled one's
    ``defaults``; a :class:`Strategy` subclass's public scalar class attributes."""
    if isinstance(strategy, CompiledStrategy):
        return dict(strategy.defaults)
    out: dict[str, Any] = {}
    for cls in reversed(strategy.__mro__):
        if cls is Strategy or not issubclass(cls, Strategy):
            continue
        for k, v in vars(cls).items():
            if not k.startswith("_") and isinstance(v, bool | int | float | str):
                out[k] = v
    return out


def run_order_strategy(
    bars: Bars,
    strategy: OrderStrategy,
    config: BrokerConfig | None = None,
    *,
    first: int = 0,
    **params: Any,
) -> OrderRunResult:
    """Run either form: :func:`run_compiled_strategy` or :func:`run_strategy`."""
    if isinstance(strategy, CompiledStrategy):
        return run_compiled_strategy(bars, strategy, config, first=first, **params)
    return run_strategy(bars, strategy, config, first=first, **params)


def _run_from(
    strategy: OrderStrategy, bars: Bars, params: Params, config: FillConfig, first: int
) -> RunResult:
    try:
        run = run_order_strategy(bars, strategy, BrokerConfig(config), first=first, **params)
    except (TypeError, ValueError) as exc:  # a bad parameter or order: the caller's to fix
        raise ValidationFailed(f"strategy: {exc}") from None
    if first == 0:
        return run
    t = run.trades
    trades = replace(t, entry_bar=t.entry_bar - first, exit_bar=t.exit_bar - first)
    return OrderRunResult(
        trades, run.equity[first:].copy(), run.config, warmup=max(run.warmup - first, 0)
    )


def order_runner(strategy: OrderStrategy) -> Runner:
    """How parameter searches and walk-forward run an order-level strategy: over
    ``bars[first:]``, its indicators warmed on the bars before."""
    return Runner(partial(_run_from, strategy))
