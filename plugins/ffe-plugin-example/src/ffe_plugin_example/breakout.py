"""An order-level backtest strategy, written as a third party would: a channel breakout.

While flat: a buy stop just above the highest high of the last ``period`` bars (replaced every
bar), its stop-loss at the lowest low and its target ``reward`` times the risk away, sized at
half the available margin; a trade neither level closed is closed after ``hold`` bars.
"""

from __future__ import annotations

from ffe_core import indicators as ind
from ffe_core.backtest.orders import Strategy


class ChannelBreakout(Strategy):
    period = 20
    reward = 2.0
    hold = 30

    def init(self) -> None:
        self.upper = self.I(ind.rolling_max, self.data.High, self.period)
        self.lower = self.I(ind.rolling_min, self.data.Low, self.period)

    def next(self) -> None:
        bar = len(self.data.Close) - 1
        for trade in self.trades:
            if bar - trade.entry_bar >= self.hold:
                trade.close()
        if not self.trades:
            for order in self.orders:
                order.cancel()
            high, low = float(self.upper[-1]), float(self.lower[-1])
            stop = high * 1.0001
            if low < stop:
                self.buy(stop=stop, sl=low, tp=stop + self.reward * (stop - low), size=0.5)
