"""What an order-level strategy holds: the run's settings and book, and handles on its orders,
trades, position and data (backtesting.py's ``Order``, ``Trade``, ``Position``, ``data``).

Handles read and write the compiled broker's arrays (:mod:`ffe_core.backtest.order_kernel`);
an order or trade handle names a slot and the serial it had, so it goes stale, not wrong, once
its slot is reused.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core.backtest import order_kernel as ok
from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import FillConfig

FloatArray = npt.NDArray[np.float64]
_NAN = math.nan


@dataclass(frozen=True)
class BrokerConfig:
    """Fills and costs (``fill``) plus what only order-level runs have."""

    fill: FillConfig = field(default_factory=FillConfig)
    margin: float = 1.0
    """Required margin ratio in (0, 1]; 0.1 is 10x leverage (backtesting.py's ``margin``)."""
    hedging: bool = False
    """Opposite trades coexist instead of offsetting FIFO."""
    exclusive_orders: bool = False
    """Each new entry cancels working entries and closes open trades."""

    def __post_init__(self) -> None:
        if not 0 < self.margin <= 1:
            raise ValueError(f"margin must be in (0, 1], got {self.margin}")

    def array(self) -> FloatArray:
        f = self.fill
        cfg = np.zeros(9)
        cfg[ok.C_SPREAD] = f.spread
        cfg[ok.C_FIXED] = f.commission_fixed
        cfg[ok.C_REL] = f.commission
        cfg[ok.C_LEVERAGE] = 1.0 / self.margin
        cfg[ok.C_STEP] = f.unit_step
        cfg[ok.C_ON_CLOSE] = float(f.trade_on_close)
        cfg[ok.C_SLIP] = f.slippage
        cfg[ok.C_HEDGING] = float(self.hedging)
        cfg[ok.C_EXCLUSIVE] = float(self.exclusive_orders)
        return cfg


def level(x: float | None) -> float:
    """A price as the kernels take it: NaN for none (or 0, as backtesting.py reads it)."""
    return _NAN if not x else float(x)


def _opt(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


class Broker:
    """The book of one run and the bar being processed; what handles read and write."""

    def __init__(self, bars: Bars, config: BrokerConfig) -> None:
        self.book = ok.new_book(config.fill.cash, config.array())
        self.bars = bars
        self.i = 0

    def check(self) -> None:
        ints = self.book[5]
        if ints[ok.ERROR] == ok.ERR_FULL:
            raise RuntimeError("too many working orders or open trades for the book")


class _Sided(ABC):
    """Long or short, read from a signed ``size``."""

    __slots__ = ()

    @property
    @abstractmethod
    def size(self) -> float:
        """Signed: > 0 long, < 0 short."""

    @property
    def is_long(self) -> bool:
        return self.size > 0

    @property
    def is_short(self) -> bool:
        return self.size < 0


class _Slotted(_Sided):
    """A handle on one row of a book table: equal to another handle on the same slot and
    serial."""

    __slots__ = ("_b", "_serial", "_slot")
    _TABLE = 0
    _SERIAL = 0
    _SIZE = 0

    def __init__(self, broker: Broker, slot: int) -> None:
        self._b = broker
        self._slot = slot
        self._serial = broker.book[self._TABLE][slot, self._SERIAL]

    def _row(self) -> FloatArray:
        return self._b.book[self._TABLE][self._slot]  # type: ignore[no-any-return]

    @property
    def size(self) -> float:
        return float(self._row()[self._SIZE])

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Slotted)
            and type(other) is type(self)
            and (other._slot, other._serial) == (self._slot, self._serial)
        )

    def __hash__(self) -> int:
        return hash((self._slot, self._serial))


class Order(_Slotted):
    """A working order (backtesting.py's ``Order``): read its fields or ``cancel()`` it."""

    __slots__ = ()
    _TABLE, _SERIAL, _SIZE = 0, ok.O_SERIAL, ok.O_SIZE

    @property
    def alive(self) -> bool:
        r = self._row()
        return bool(r[ok.O_ALIVE]) and r[ok.O_SERIAL] == self._serial

    @property
    def limit(self) -> float | None:
        return _opt(self._row()[ok.O_LIMIT])

    @property
    def stop(self) -> float | None:
        return _opt(self._row()[ok.O_STOP])

    @property
    def sl(self) -> float | None:
        return _opt(self._row()[ok.O_SL])

    @property
    def tp(self) -> float | None:
        return _opt(self._row()[ok.O_TP])

    @property
    def is_contingent(self) -> bool:
        """True for a trade's SL/TP order (cancelled with its trade)."""
        return int(self._row()[ok.O_KIND]) in (ok.KIND_SL, ok.KIND_TP)

    def cancel(self) -> None:
        if self.alive:
            ok.cancel(self._b.book, self._slot)


class Trade(_Slotted):
    """An open trade (backtesting.py's ``Trade``): size, prices, writable ``sl``/``tp``, close."""

    __slots__ = ()
    _TABLE, _SERIAL, _SIZE = 2, ok.T_SERIAL, ok.T_SIZE

    @property
    def entry_price(self) -> float:
        return float(self._row()[ok.T_ENTRY])

    @property
    def entry_bar(self) -> int:
        return int(self._row()[ok.T_BAR])

    @property
    def pl(self) -> float:
        """Unrealised profit at the current close (commissions are booked at exit)."""
        return float(self.size * (self._b.bars.close[self._b.i] - self.entry_price))

    @property
    def pl_pct(self) -> float:
        return float(
            math.copysign(1, self.size) * (self._b.bars.close[self._b.i] / self.entry_price - 1)
        )

    def _level(self, col: int, field: int) -> float | None:
        slot = int(self._row()[col])
        return None if slot < 0 else _opt(self._b.book[0][slot, field])

    @property
    def sl(self) -> float | None:
        return self._level(ok.T_SL, ok.O_STOP)

    @sl.setter
    def sl(self, price: float | None) -> None:
        ok.set_sl(self._b.book, self._slot, level(price))

    @property
    def tp(self) -> float | None:
        return self._level(ok.T_TP, ok.O_LIMIT)

    @tp.setter
    def tp(self, price: float | None) -> None:
        ok.set_tp(self._b.book, self._slot, level(price))

    def close(self, portion: float = 1.0) -> None:
        """Close ``portion`` of the trade at the next fill (market order)."""
        if not 0 < portion <= 1:
            raise ValueError("portion must be a fraction in (0, 1]")
        ok.close_trade(self._b.book, self._slot, float(portion))


class Position(_Sided):
    """The net position: ``size``, ``pl``, truthiness, ``close(portion)``."""

    __slots__ = ("_b",)

    def __init__(self, broker: Broker) -> None:
        self._b = broker

    @property
    def size(self) -> float:
        b = self._b.book
        n = b[5][ok.N_ACTIVE]
        return float(b[2][b[3][:n], ok.T_SIZE].sum()) if n else 0.0

    @property
    def pl(self) -> float:
        b = self._b.book
        rows = b[2][b[3][: b[5][ok.N_ACTIVE]]]
        price = self._b.bars.close[self._b.i]
        return float((rows[:, ok.T_SIZE] * (price - rows[:, ok.T_ENTRY])).sum())

    def __bool__(self) -> bool:
        return self.size != 0

    def close(self, portion: float = 1.0) -> None:
        ok.close_position(self._b.book, float(portion))


class Data:
    """OHLCV arrays as long as the bars seen so far (``Close[-1]`` is the current close)."""

    def __init__(self, bars: Bars) -> None:
        self._bars = bars
        self._n = len(bars)

    @property
    def Open(self) -> FloatArray:
        return self._bars.open[: self._n]

    @property
    def High(self) -> FloatArray:
        return self._bars.high[: self._n]

    @property
    def Low(self) -> FloatArray:
        return self._bars.low[: self._n]

    @property
    def Close(self) -> FloatArray:
        return self._bars.close[: self._n]

    @property
    def Volume(self) -> FloatArray:
        return self._bars.volume[: self._n]

    @property
    def index(self) -> npt.NDArray[Any]:
        """Bar times (``datetime64[ns]``), or bar numbers for untimed bars."""
        t = self._bars.time
        return np.arange(self._n) if t is None else t[: self._n]

    def __len__(self) -> int:
        return self._n
