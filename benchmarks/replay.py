"""Event-driven replay of the decision stack vs backtesting.py on the same strategy and bars.

Run: ``python -m benchmarks.replay [--bars 3000]``. backtesting.py is a dev-only peer; when it
is missing its rows are skipped.

The shared strategy is the offline trend provider's rule - long while SMA(20) > SMA(50) and
the MACD histogram is positive, flat once both point down - written once as a backtesting.py
``Strategy`` (indicators precomputed with ``self.I``, as its users do) and once as the real
``TrendProvider`` asked by the ``Ensemble`` through ``replay`` - on the per-bar path (a context
and a vote per bar) and on the batch path (``vote_batch`` + vectorised aggregation + the compiled
simulator; same trades and equity, see ``ffe_core.backtest.replay_fast``). Also timed: the three
offline providers together (the embedded default ensemble), and the per-bar machinery alone (one
provider answering instantly, awaited: contexts are built, no Decision is when nothing reads
it), which bounds what any awaiting provider can reach. ``--cached-llm BARS`` times the 3
offline providers plus a language-model provider answered wholly from its vote cache against
the 3 offline providers alone (target: at most 2x); with nothing observing the decisions the
language model is asked ``cached_signal_now`` per bar (its cache is in this process, so the
bar runs with no coroutine), so no context is built. (``ffe replay``
itself always passes a risk check and so builds a context and a Decision per bar.) The offline providers never await and only read the bars, so their per-bar
rows take the replay's synchronous path that asks each provider's ``signal_at`` on the series
(indicators computed once per series); ``tests/unit/replay/test_per_bar_paths.py`` holds it
equal to the awaiting path with window indicators.

Rates are bars per second of this process's CPU time (``time.process_time``), so that other
work on a shared machine distorts them less than wall-clock rates would; runs shorter than a
second are repeated and the best is kept. The batch path's one-off cost of loading its compiled
kernels in a fresh process is printed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


def best_cpu(run: Any, repeat: int) -> tuple[float, Any]:
    """Fewest CPU seconds of ``repeat`` runs of ``run()`` (fewer when one run takes > 1 s)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        out = run()
        dt = time.process_time() - t0
        best = min(best, dt)
        if dt > 1.0:
            break
    return best, out


def run_backtesting_py(bars: Bars, repeat: int) -> tuple[float, Any] | None:
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
        dt, stats = best_cpu(bt.run, repeat)
    return len(bars) / dt, stats["_trades"][["EntryBar", "ExitBar"]].to_numpy()


def run_replay(
    bars: Bars,
    providers: list[DecisionProvider],
    quorum: int,
    *,
    with_indicators: bool,
    fast: bool,
    repeat: int,
) -> tuple[float, Any, Any]:
    ensemble = Ensemble({p.name: p for p in providers}, EnsembleSettings(quorum=quorum))
    cfg = FillConfig(commission=COMMISSION)

    def run() -> Any:
        job = replay(bars, INSTRUMENT, ensemble, cfg, with_indicators=with_indicators, fast=fast)
        return asyncio.run(job)

    dt, result = best_cpu(run, repeat)
    t = result.run.trades
    return len(bars) / dt, np.column_stack([t.entry_bar, t.exit_bar]), result


class NoCalls:
    """An LLM backend that must never be reached: every vote of the timed run is cached."""

    async def complete(self, prompt: Any) -> Any:
        raise AssertionError("an uncached language-model call in the cached replay")

    def translate_error(self, exc: Exception) -> Exception:
        return exc

    async def close(self) -> None:
        return None


class Filling:
    """Fills the vote cache with a vote per bar (untimed): a deterministic stand-in answer
    stored under the prompt key the real provider computes for that bar, with a reasoning and
    a raw answer of its own, as a model's votes have (so no two stored votes are alike)."""

    def __init__(self, llm: Any, votes: Any) -> None:
        self.name = llm.name
        self._llm, self._votes = llm, votes

    async def vote(self, context: DecisionContext) -> ProviderVote:
        from ffe_core.domain.decisions import Action
        from ffe_core.prompt_keys import prompt_key

        bars = context.bars
        up = len(bars) > 1 and bars[-1].close > bars[-2].close
        action = Action.BUY if up else Action.SELL
        reasoning = (
            f"The last close {bars[-1].close:.4f} is {'above' if up else 'below'} the one "
            "before; with the averages and the momentum pointing the same way the evidence "
            f"is moderate, so {action.value} with a middling confidence."
        )
        answer = {"action": action.value, "confidence": 0.6, "reasoning": reasoning}
        vote = ProviderVote(
            provider=self.name,
            model=self._llm.model,
            action=action,
            confidence=0.6,
            reasoning=reasoning,
            raw_answer=json.dumps({**answer, "stop_loss": None, "take_profit": None}),
        )
        digest = prompt_key(context, max_bars=self._llm.options.max_bars)
        await self._votes.put(vote, self._llm.model, digest)
        return vote


def cached_llm(n: int, repeat: int) -> None:
    """The 3 offline providers plus a language-model provider answered wholly from its vote
    cache (through ``Metered``, as ``ffe replay`` asks it), against the 3 offline providers alone,
    on the same per-bar path. Target: at most 2x the offline replay's time."""
    from ffe_adapters.cache.memory import MemoryCache
    from ffe_adapters.llm.base import LlmProvider
    from ffe_adapters.llm.config import LlmOptions
    from ffe_adapters.llm.safety import VoteCache
    from ffe_core.backtest.replay_cost import Metered, SpendMeter

    bars = synthetic(n, seed=11)
    offline: list[DecisionProvider] = [
        TrendProvider(TrendOptions(fast=FAST, slow=SLOW)),
        MeanReversionProvider(),
        BreakoutProvider(),
    ]
    cache = MemoryCache(max_entries=2 * n)
    options = LlmOptions(model="bench-model")
    llm = LlmProvider("llm", options, NoCalls(), cache=cache)  # type: ignore[arg-type]
    filler = Filling(llm, VoteCache(cache, options.cache_ttl_seconds))
    meter = SpendMeter()
    metered = Metered(llm, meter)
    cfg = FillConfig(commission=COMMISSION)
    # the first run (untimed) is the one that would have paid; the rerun finds every prompt
    first = Ensemble({p.name: p for p in [*offline, filler]}, EnsembleSettings(quorum=2))
    asyncio.run(replay(bars, INSTRUMENT, first, cfg, fast=False))

    def timed(providers: list[Any]) -> float:
        ensemble = Ensemble({p.name: p for p in providers}, EnsembleSettings(quorum=2))
        dt, _ = best_cpu(
            lambda: asyncio.run(replay(bars, INSTRUMENT, ensemble, cfg, fast=False)), repeat
        )
        return dt

    base = timed(offline)
    with_llm = timed([*offline, metered])
    spend = meter.of("llm")
    print(f"{'ffe replay, per-bar, 3 offline providers':<58} {n / base:>10,.0f} bars/s")
    print(
        f"{'ffe replay, per-bar, 3 offline + cached LLM':<58} {n / with_llm:>10,.0f} bars/s  "
        f"over the timed runs: cached votes {spend.cached}, calls {spend.calls}"
    )
    ratio = with_llm / base
    met = "met" if ratio <= 2.0 else "NOT met"
    print(f"target cached LLM replay of {n} bars x 4 providers <= 2x offline: {ratio:.2f}x, {met}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5, help="best of this many short runs")
    ap.add_argument("--batch-only", action="store_true", help="skip the slow per-bar rows")
    ap.add_argument(
        "--cached-llm",
        type=int,
        metavar="BARS",
        help="only the cached language-model row, on this many bars (the target: 10000)",
    )
    args = ap.parse_args()
    if args.cached_llm:
        cached_llm(args.cached_llm, args.repeat)
        return
    # Hourly-looking bars: the offline providers' ATR levels need some range per bar.
    bars = synthetic(args.bars, seed=7)
    trend = TrendProvider(TrendOptions(fast=FAST, slow=SLOW))
    offline: list[DecisionProvider] = [trend, MeanReversionProvider(), BreakoutProvider()]
    warm = bars.slice(0, 300)
    asyncio.run(replay(warm, INSTRUMENT, Ensemble({}, EnsembleSettings()), fast=False))
    t0 = time.process_time()
    asyncio.run(
        replay(warm, INSTRUMENT, Ensemble({p.name: p for p in offline}, EnsembleSettings()))
    )
    load = time.process_time() - t0
    peer = run_backtesting_py(bars, args.repeat)
    rows = [
        ("per-bar, trend provider, indicators off", [trend], 1, False, False),
        ("per-bar, trend provider, indicators on", [trend], 1, True, False),
        ("batch, trend provider", [trend], 1, False, True),
        ("per-bar, 3 offline providers (not the same rule)", offline, 2, False, False),
        ("batch, 3 offline providers (not the same rule)", offline, 2, False, True),
        ("per-bar, replay + ensemble only (instant HOLD)", [Instant()], 1, False, False),
    ]
    if args.batch_only:
        rows = [r for r in rows if r[4]]
    if peer is not None:
        print(
            f"{'backtesting.py, same trend rule':<58} {peer[0]:>10,.0f} bars/s  trades {len(peer[1])}"
        )
    results: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    for label, providers, quorum, with_ind, fast in rows:
        rate, trades, result = run_replay(
            bars, providers, quorum, with_indicators=with_ind, fast=fast, repeat=args.repeat
        )
        results[label] = result
        line = f"{'ffe replay, ' + label:<58} {rate:>10,.0f} bars/s  trades {len(trades)}"
        if peer is not None:
            ratios[label] = rate / peer[0]
            line += f"  ffe/backtesting.py {rate / peer[0]:.3f}x"
            if providers == [trend]:
                same = trades.shape == peer[1].shape and bool((trades == peer[1]).all())
                line += f"  same trades: {same}"
        print(line)
    for what in ("trend provider", "3 offline providers (not the same rule)"):
        a, b = results.get(f"per-bar, {what}"), results.get(f"batch, {what}")
        if what == "trend provider":
            a = results.get("per-bar, trend provider, indicators off")
        if a is not None and b is not None:
            same = bool(
                np.array_equal(a.run.equity, b.run.equity)
                and np.array_equal(a.targets, b.targets)
                and np.array_equal(a.actions, b.actions)
            )
            print(f"batch == per-bar ({what}): equity, targets and actions identical: {same}")
    print(
        f"({args.bars} bars; batch path's first call in a process, loading its compiled kernels: "
        f"{load:.2f} CPU s)"
    )
    for label, target in (
        ("per-bar, 3 offline providers (not the same rule)", 1.0),
        ("batch, 3 offline providers (not the same rule)", 10.0),
        ("batch, trend provider", 10.0),
    ):
        if label in ratios:
            met = "met" if ratios[label] >= target else "NOT met"
            print(f"target {label}: >= {target:g}x backtesting.py: {ratios[label]:.2f}x, {met}")


if __name__ == "__main__":
    main()
