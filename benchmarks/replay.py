"""Event-driven replay of the decision stack vs backtesting.py on the same strategy and bars.

Run: ``python -m benchmarks.replay [--bars 3000]``. backtesting.py is a dev-only peer; when it
is missing its rows are skipped.

The shared strategy is the offline trend provider's rule - long while SMA(20) > SMA(50) and
the MACD histogram is positive, flat once both point down - written once as a backtesting.py
``Strategy`` (indicators precomputed with ``self.I``, as its users do) and once as the real
``TrendProvider`` asked by the ``Ensemble`` at every bar through ``replay``. Also timed: the
three offline providers together (the embedded default ensemble), and the replay machinery
alone (one provider answering instantly), which bounds what any provider can reach.

Rates are bars per second of this process's CPU time (``time.process_time``), so that other
work on a shared machine distorts them less than wall-clock rates would.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import warnings
from typing import Any

import numpy as np

from benchmarks.backtest import synthetic
from ffe_adapters.quant.config import TrendOptions
from ffe_adapters.quant.providers import BreakoutProvider, MeanReversionProvider, TrendProvider
from ffe_core import indicators as ind
from ffe_core.backtest.data import Bars
from ffe_core.backtest.replay import replay
from ffe_core.backtest.simulator import FillConfig
from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import ProviderVote
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.ports.providers import DecisionProvider
from ffe_core.services.ensemble import Ensemble

COMMISSION = 0.001
FAST, SLOW = 20, 50
INSTRUMENT = Instrument(symbol="SYN", asset_class=AssetClass.EQUITY, base="SYN", quote="USD")


class Instant:
    """Answers HOLD at once: what is left is the replay and the ensemble themselves."""

    name = "instant"

    def __init__(self) -> None:
        self.answer = ProviderVote(provider=self.name, confidence=0.5, reasoning="no view")

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return self.answer


def run_backtesting_py(bars: Bars) -> tuple[float, Any] | None:
    try:
        import pandas as pd
        from backtesting import Backtest, Strategy
    except ImportError:
        print("backtesting.py not installed: skipped")
        return None

    def sma(x: Any, p: int) -> Any:
        return ind.sma(np.asarray(x, dtype=np.float64), p)

    def hist(x: Any) -> Any:
        return ind.macd(np.asarray(x, dtype=np.float64))[2]

    class Trend(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)
            self.hist = self.I(hist, self.data.Close)

        def next(self) -> None:
            f, s, h = self.fast[-1], self.slow[-1], self.hist[-1]
            if f > s and h > 0:
                if not self.position:
                    self.buy()
            elif f < s and h < 0 and self.position:
                self.position.close()

    assert bars.time is not None
    df = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close},
        index=pd.DatetimeIndex(bars.time),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, Trend, cash=10_000, commission=COMMISSION, finalize_trades=True)
        t0 = time.process_time()
        stats = bt.run()
        dt = time.process_time() - t0
    return len(bars) / dt, stats["_trades"][["EntryBar", "ExitBar"]].to_numpy()


def run_replay(
    bars: Bars, providers: list[DecisionProvider], quorum: int, *, with_indicators: bool
) -> tuple[float, Any]:
    ensemble = Ensemble({p.name: p for p in providers}, EnsembleSettings(quorum=quorum))
    cfg = FillConfig(commission=COMMISSION)
    t0 = time.process_time()
    result = asyncio.run(replay(bars, INSTRUMENT, ensemble, cfg, with_indicators=with_indicators))
    dt = time.process_time() - t0
    t = result.run.trades
    return len(bars) / dt, np.column_stack([t.entry_bar, t.exit_bar])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=3000)
    args = ap.parse_args()
    # Hourly-looking bars: the offline providers' ATR levels need some range per bar.
    bars = synthetic(args.bars, seed=7)
    asyncio.run(replay(bars.slice(0, 300), INSTRUMENT, Ensemble({}, EnsembleSettings())))
    peer = run_backtesting_py(bars)
    trend = TrendProvider(TrendOptions(fast=FAST, slow=SLOW))
    offline: list[DecisionProvider] = [trend, MeanReversionProvider(), BreakoutProvider()]
    rows = [
        ("trend provider, indicators off", [trend], 1, False),
        ("trend provider, indicators on", [trend], 1, True),
        ("3 offline providers (not the same rule)", offline, 2, False),
        ("replay + ensemble only (instant HOLD)", [Instant()], 1, False),
    ]
    if peer is not None:
        print(
            f"{'backtesting.py, same trend rule':<46} {peer[0]:>9,.0f} bars/s  trades {len(peer[1])}"
        )
    for label, providers, quorum, with_ind in rows:
        rate, trades = run_replay(bars, providers, quorum, with_indicators=with_ind)
        line = f"{'ffe replay, ' + label:<46} {rate:>9,.0f} bars/s  trades {len(trades)}"
        if peer is not None:
            line += f"  ffe/backtesting.py {rate / peer[0]:.3f}x"
            if providers == [trend]:
                same = trades.shape == peer[1].shape and bool((trades == peer[1]).all())
                line += f"  same trades: {same}"
        print(line)
    print(f"({args.bars} bars; target: ffe replay >= backtesting.py bars/s)")


if __name__ == "__main__":
    main()
