"""Backtest speed and memory: ffe vs vectorbt vs backtesting.py on the same synthetic bars.

Run: ``python benchmarks/backtest.py [--bars 1000000] [--big 10000000] [--whole 1000000 4000000]
[--orders 50000] [--only-orders] [--portfolio 1000000] [--only-portfolio]``.
Peers are optional (dev-only); a missing peer is reported and skipped. Prints ratios; numba compile time is
measured separately (first call on a tiny input) and excluded from the rates.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
from numba import njit

from ffe_core import indicators as ind
from ffe_core.backtest.data import make_bars
from ffe_core.backtest.search import grid, run_search
from ffe_core.backtest.simulator import FillConfig, simulate
from ffe_core.backtest.stats import Calendar, compute_stats
from ffe_core.backtest.strategies import sma_cross
from ffe_core.kernels import compile_kernels

FAST, SLOW = 10, 30
COMMISSION = 0.001
WHOLE_REPEAT = 15
"""[0] alternates ffe and the limit 15 times, each timed in CPU time of this thread (a time slice
lost to another process on the shared cores is not counted), and prints the best and the
median of the 15 paired ratios."""


def synthetic(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """A random-walk minute series, built in place to keep 10M bars light."""
    rng = np.random.default_rng(seed)
    c = rng.normal(0, 0.0005, n)
    np.cumsum(c, out=c)
    np.exp(c, out=c)
    c *= 100
    o = np.empty_like(c)
    o[0] = c[0]
    o[1:] = c[:-1]
    wig = np.abs(rng.normal(0, 0.0003, n))
    wig += 1
    h = np.maximum(o, c)
    h *= wig
    np.subtract(2, wig, out=wig)
    lo = np.minimum(o, c)
    lo *= wig
    del wig
    t = np.arange(n, dtype=np.int64)
    t *= 60 * 10**9
    t += np.datetime64("2020-01-01", "ns").astype(np.int64)
    return make_bars(o, h, lo, c, time=t.view("datetime64[ns]"))


def best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


@njit(cache=True, nogil=True)
def fused_sma_cross(o, c, fast, slow, cash, rel, equity, exact=False):  # type: ignore[no-untyped-def]
    """The limit: SMA cross signals and next-open fills (whole units, relative commission) in
    one pass over the bars, running sums for both averages, equity written per bar. ``exact``
    computes the averages as ffe's (and pandas') SMA does, so crossovers equal backtesting.py's."""
    n = c.shape[0]
    sf = 0.0
    ss = 0.0
    af = 0.0  # exact: the compensations of what enters and what leaves each window
    rf = 0.0
    a_s = 0.0
    rs = 0.0
    nf = 0
    ns = 0
    run = 0
    prev_f = np.nan
    prev_s = np.nan
    pos = 0.0
    epx = 0.0
    want = 0
    pending = False
    trades = 0
    for i in range(n):
        if pending:
            pending = False
            if pos != 0.0 and want == 0:
                cash += pos * (o[i] - epx) - pos * o[i] * rel
                pos = 0.0
                trades += 1
            elif pos == 0.0 and want == 1:
                units = np.floor(cash * (1 - 2.220446049250313e-16) / (o[i] * (1 + rel)))
                if units > 0:
                    pos = units
                    epx = o[i]
                    cash -= pos * epx * rel
        x = c[i]
        if exact:
            if i >= fast:
                v = c[i - fast]
                sf, rf = ind.kahan_add(sf, rf, -v)
                nf -= v < 0.0
            sf, af = ind.kahan_add(sf, af, x)
            if i >= slow:
                v = c[i - slow]
                ss, rs = ind.kahan_add(ss, rs, -v)
                ns -= v < 0.0
            ss, a_s = ind.kahan_add(ss, a_s, x)
            nf += x < 0.0
            ns += x < 0.0
            run = run + 1 if i > 0 and x == c[i - 1] else 1
            f = ind.window_mean(sf, fast, run, nf, x) if i >= fast - 1 else np.nan
            s = ind.window_mean(ss, slow, run, ns, x) if i >= slow - 1 else np.nan
        else:
            sf += x
            ss += x
            if i >= fast:
                sf -= c[i - fast]
            if i >= slow:
                ss -= c[i - slow]
            f = sf / fast if i >= fast - 1 else np.nan
            s = ss / slow if i >= slow - 1 else np.nan
        if i < n - 1:
            if prev_f < prev_s and f > s and want != 1:
                want = 1
                pending = True
            elif prev_f > prev_s and f < s and want != 0:
                want = 0
                pending = True
        prev_f = f
        prev_s = s
        equity[i] = cash + pos * (x - epx)
    if pos != 0.0:
        cash += pos * (o[n - 1] - epx) - pos * o[n - 1] * rel
        equity[n - 1] = cash
        trades += 1
    return trades


def fused_single(bars, exact: bool = False):  # type: ignore[no-untyped-def]
    """The limit: one call, a fresh equity curve per run (as ffe's runs allocate theirs)."""

    def run() -> int:
        equity = np.empty(len(bars))
        return int(
            fused_sma_cross(bars.open, bars.close, FAST, SLOW, 10_000.0, COMMISSION, equity, exact)
        )

    return run


def ffe_whole(bars):  # type: ignore[no-untyped-def]
    """What ``ffe backtest`` does in process: signals, fills, calendar and statistics."""

    def run() -> int:
        target = sma_cross(
            bars.open, bars.high, bars.low, bars.close, bars.volume, fast=FAST, slow=SLOW
        )
        res = simulate(bars, target, FillConfig(commission=COMMISSION))
        compute_stats(res, bars, warmup=SLOW - 1, calendar=Calendar.of(bars))
        return len(res.trades)

    return run


def cpu_times(fns, repeat: int = WHOLE_REPEAT):  # type: ignore[no-untyped-def]
    """Each function's CPU times (this thread), the functions alternating within each round."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.thread_time()
            fn()
            times[k].append(time.thread_time() - t0)
    return [np.array(t) for t in times]


def ffe_phases(bars) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The whole run's phases timed apart (best CPU time of WHOLE_REPEAT each), in seconds."""
    cfg = FillConfig(commission=COMMISSION)
    target = sma_cross(
        bars.open, bars.high, bars.low, bars.close, bars.volume, fast=FAST, slow=SLOW
    )
    res = simulate(bars, target, cfg)
    cal = Calendar.of(bars)
    phases = {
        "signal": lambda: sma_cross(
            bars.open, bars.high, bars.low, bars.close, bars.volume, fast=FAST, slow=SLOW
        ),
        "fills": lambda: simulate(bars, target, cfg),
        "Calendar.of": lambda: Calendar.of(bars),
        "compute_stats": lambda: compute_stats(res, bars, warmup=SLOW - 1, calendar=cal),
        "(Alpha/Beta on request)": lambda: compute_stats(
            res, bars, warmup=SLOW - 1, calendar=cal, alpha_beta=True
        ),
    }
    got = cpu_times(list(phases.values()), 7)
    return {k: float(t.min()) for k, t in zip(phases, got, strict=True)}


def whole_vs_limit(sizes: list[int]) -> None:
    """[0] ffe's whole in-process run against the fused single-pass kernel, both warm."""
    compile_kernels()  # ind.kahan_add, ind.window_mean become dispatchers the kernel can call
    tiny = synthetic(500)
    for fn in (fused_single(tiny), fused_single(tiny, exact=True), ffe_whole(tiny)):
        fn()
    for n in sizes:
        bars = synthetic(n)
        lim, ours, exact = fused_single(bars), ffe_whole(bars), fused_single(bars, exact=True)
        tr_lim, tr_all = lim(), ours()  # warm: first touch of the bars and the allocator
        exact()
        t_lim, t_all, t_ex = cpu_times([lim, ours, exact])
        ratios = t_lim / t_all
        print(
            f"\n[0] SMA({FAST},{SLOW}) signal + fills + statistics, {n:,} bars, in process "
            f"(CPU time, {WHOLE_REPEAT} alternating rounds)\n"
            f"  fused single-pass kernel (limit) {n / t_lim.min() / 1e6:7.1f} M bars/s "
            f"({t_lim.min() * 1e3:.1f} ms best, {np.median(t_lim) * 1e3:.1f} median, "
            f"{tr_lim} trades)\n"
            f"  ffe sma_cross+simulate+stats     {n / t_all.min() / 1e6:7.1f} M bars/s "
            f"({t_all.min() * 1e3:.1f} ms best, {np.median(t_all) * 1e3:.1f} median, "
            f"{tr_all} trades)\n"
            f"  ratio ffe / limit: best {t_lim.min() / t_all.min():.2f}, median of rounds "
            f"{np.median(ratios):.2f}, worst round {ratios.min():.2f}  (target >= 0.50)\n"
            f"  (the limit with compensated sums, i.e. backtesting.py's crossovers: "
            f"{t_ex.min() * 1e3:.1f} ms; ffe / it: {t_ex.min() / t_all.min():.2f})\n"
            "  phases: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in ffe_phases(bars).items())
        )
        del bars


def ffe_single(bars) -> float:  # type: ignore[no-untyped-def]
    def run() -> None:
        target = sma_cross(
            bars.open, bars.high, bars.low, bars.close, bars.volume, fast=FAST, slow=SLOW
        )
        simulate(bars, target, FillConfig(commission=COMMISSION))

    return best_of(run)


def vbt_single(vbt, bars):  # type: ignore[no-untyped-def]
    close = bars.close

    def run() -> None:
        f = vbt.MA.run(close, FAST).ma.values
        s = vbt.MA.run(close, SLOW).ma.values
        entries = np.zeros(close.size, bool)
        exits = np.zeros(close.size, bool)
        entries[1:] = (f[:-1] < s[:-1]) & (f[1:] > s[1:])
        exits[1:] = (f[:-1] > s[:-1]) & (f[1:] < s[1:])
        # fill on the next open, like ffe's default
        entries = np.r_[False, entries[:-1]]
        exits = np.r_[False, exits[:-1]]
        pf = vbt.Portfolio.from_signals(
            close, entries, exits, price=bars.open, fees=COMMISSION, init_cash=10_000
        )
        pf.final_value()

    return best_of(run)


def vbt_sweep(vbt, bars, combos):  # type: ignore[no-untyped-def]
    close = bars.close
    fw = [f for f, _ in combos]
    sw = [s for _, s in combos]

    def run() -> None:
        f = vbt.MA.run(close, fw).ma.values
        s = vbt.MA.run(close, sw).ma.values
        entries = np.zeros_like(f, dtype=bool)
        exits = np.zeros_like(f, dtype=bool)
        entries[1:] = (f[:-1] < s[:-1]) & (f[1:] > s[1:])
        exits[1:] = (f[:-1] > s[:-1]) & (f[1:] < s[1:])
        pf = vbt.Portfolio.from_signals(
            close[:, None], entries, exits, fees=COMMISSION, init_cash=10_000
        )
        pf.final_value()

    return best_of(run, 1)


def bt_single(bars) -> float:  # type: ignore[no-untyped-def]
    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class Cross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.a = self.I(SMA, self.data.Close, FAST)
            self.b = self.I(SMA, self.data.Close, SLOW)

        def next(self) -> None:
            if crossover(self.a, self.b):
                if not self.position:
                    self.buy()
            elif crossover(self.b, self.a):
                self.position.close()

    df = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close, "Volume": 0.0},
        index=pd.DatetimeIndex(bars.time),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return best_of(
            lambda: Backtest(df, Cross, commission=COMMISSION, finalize_trades=True).run(), 1
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument(
        "--sweep-vbt-bars",
        type=int,
        default=250_000,
        help="vectorbt's broadcast sweep holds bars x combos floats; keep it in RAM",
    )
    ap.add_argument("--bt-bars", type=int, default=50_000)
    ap.add_argument("--big", type=int, default=10_000_000)
    ap.add_argument("--only-big", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--whole",
        type=int,
        nargs="*",
        default=[1_000_000, 4_000_000],
        help="bar counts for [0], the whole in-process run against the fused kernel",
    )
    ap.add_argument(
        "--orders", type=int, default=50_000, help="bars for [4], order-level vs backtesting.py"
    )
    ap.add_argument("--only-orders", action="store_true", help="run [4] alone")
    ap.add_argument(
        "--portfolio", type=int, default=1_000_000, help="bars per instrument for [5] (4 of them)"
    )
    ap.add_argument("--only-portfolio", action="store_true", help="run [5] alone")
    args = ap.parse_args()
    if args.only_orders:
        order_level(args.orders)
        return
    if args.only_portfolio:
        portfolio_row(args.portfolio)
        return
    if args.only_big:
        big_run(args.big)
        return
    whole_vs_limit(args.whole)

    t0 = time.perf_counter()
    tiny = synthetic(200)
    simulate(tiny, sma_cross(tiny.open, tiny.high, tiny.low, tiny.close, tiny.volume))
    print(f"ffe compile/load (cache) time: {time.perf_counter() - t0:.2f} s")

    bars = synthetic(args.bars)
    n = len(bars)
    t_ffe = ffe_single(bars)
    print(f"\n[1] SMA({FAST},{SLOW}) cross, {n:,} minute bars (signals + simulation)")
    print(f"  ffe          {n / t_ffe / 1e6:8.1f} M bars/s  ({t_ffe * 1e3:.1f} ms)")
    try:
        import vectorbt as vbt
    except ImportError:
        vbt = None
        print("  vectorbt     not installed")
    if vbt is not None:
        vbt_single(vbt, synthetic(500))
        t_vbt = vbt_single(vbt, bars)
        print(
            f"  vectorbt {vbt.__version__} {n / t_vbt / 1e6:6.1f} M bars/s  ({t_vbt * 1e3:.1f} ms)"
        )
        print(f"  ratio ffe / vectorbt: {t_vbt / t_ffe:.2f}x  (target >= 2x)")
    try:
        small = synthetic(args.bt_bars)
        t_bt = bt_single(small)
        print(
            f"  backtesting.py {args.bt_bars / t_bt / 1e6:6.3f} M bars/s on {args.bt_bars:,} bars;"
            f" ffe / backtesting.py: {(args.bt_bars / t_bt) ** -1 * n / t_ffe:.0f}x"
        )
    except ImportError:
        print("  backtesting.py not installed")

    combos = [
        (f, s)
        for f, s in (
            (f, s)
            for f in (5, 8, 10, 12, 15, 20, 25, 30, 40, 50)
            for s in (60, 80, 100, 120, 150, 180, 200, 250, 300, 400)
        )
    ]
    cands = grid(
        {
            "fast": tuple(sorted({f for f, _ in combos})),
            "slow": tuple(sorted({s for _, s in combos})),
        }
    )

    def per_candidate(*a, **k):  # type: ignore[no-untyped-def]
        return sma_cross(*a, **k)  # not in SHARED_INDICATORS: each candidate computes its SMAs

    sweep = {"shared": sma_cross, "per candidate": per_candidate}
    t_sweep = {name: math.inf for name in sweep}
    for _ in range(2):  # alternating, best of 2 (wall time: the search runs on 2 threads)
        for name, strat in sweep.items():
            t0 = time.perf_counter()
            run_search(bars, strat, cands, FillConfig(commission=COMMISSION), objective="return")
            t_sweep[name] = min(t_sweep[name], time.perf_counter() - t0)
    t_sw = t_sweep["shared"]
    rate_ffe = len(cands) * n / t_sw
    print(f"\n[2] sweep of {len(cands)} (fast, slow) combos")
    print(
        f"  ffe          {rate_ffe / 1e6:8.1f} M combo-bars/s on {n:,} bars ({t_sw:.2f} s; one "
        f"SMA per distinct period; each candidate computing its own: "
        f"{t_sweep['per candidate']:.2f} s = {t_sweep['per candidate'] / t_sw:.2f}x slower)"
    )
    if vbt is not None:
        vbt_sweep(vbt, synthetic(1000), combos)  # compile the 2-D paths first
        vb = synthetic(args.sweep_vbt_bars)
        t_vs = vbt_sweep(vbt, vb, combos)
        rate_vbt = len(combos) * len(vb) / t_vs
        print(
            f"  vectorbt     {rate_vbt / 1e6:8.1f} M combo-bars/s on {len(vb):,} bars "
            f"({t_vs:.2f} s)"
        )
        print(f"  ratio ffe / vectorbt: {rate_ffe / rate_vbt:.2f}x  (target >= 10x)")

    del bars
    if args.orders:
        order_level(args.orders)
    if args.portfolio:
        portfolio_row(args.portfolio)
    if args.big:
        import subprocess
        import sys

        # A fresh process, so the peers' memory does not count against ffe's.
        subprocess.run([sys.executable, __file__, "--only-big", "--big", str(args.big)], check=True)


def order_level(n: int) -> None:
    """[4] an order-level strategy (SMA cross entries with SL 2 %, TP 4 %, 1.5 % trailing stop)
    in backtesting.py, as ffe's Python ``Strategy`` and as ffe's compiled ``sma_bracket``."""
    import pandas as pd
    from backtesting import Backtest
    from backtesting import Strategy as BtStrategy

    from ffe_core import indicators as ind
    from ffe_core.backtest.order_strategies import SMA_BRACKET
    from ffe_core.backtest.orders import (
        BrokerConfig,
        Strategy,
        run_compiled_strategy,
        run_strategy,
    )

    p = {"sl": 0.02, "tp": 0.04, "trail": 0.015}

    def decide(s, c: float) -> bool:  # type: ignore[no-untyped-def]
        f, w = s.f, s.s
        if f[-2] < w[-2] and f[-1] > w[-1]:
            if s.position.size <= 0:
                s.position.close()
                return True
        elif w[-2] < f[-2] and w[-1] > f[-1]:
            s.position.close()
        return False

    class BtBracket(BtStrategy):  # type: ignore[misc]
        def init(self) -> None:
            self.f = self.I(ind.sma, self.data.Close, FAST)
            self.s = self.I(ind.sma, self.data.Close, SLOW)

        def next(self) -> None:
            c = float(self.data.Close[-1])
            if decide(self, c):
                self.buy(sl=c * (1 - p["sl"]), tp=c * (1 + p["tp"]))
            for t in self.trades:
                t.sl = max(t.sl or -np.inf, c * (1 - p["trail"]))

    class FfeBracket(Strategy):
        def init(self) -> None:
            self.f = self.I(ind.sma, self.data.Close, FAST)
            self.s = self.I(ind.sma, self.data.Close, SLOW)

        def next(self) -> None:
            c = float(self.data.Close[-1])
            if decide(self, c):
                self.buy(sl=c * (1 - p["sl"]), tp=c * (1 + p["tp"]), trail=p["trail"])

    bars = synthetic(n)
    df = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close, "Volume": 0.0},
        index=pd.DatetimeIndex(bars.time),
    )
    cfg = BrokerConfig(FillConfig(commission=COMMISSION))
    run_compiled_strategy(synthetic(200), SMA_BRACKET, cfg, **p)  # compile outside the timing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt_run = Backtest(df, BtBracket, commission=COMMISSION, finalize_trades=True)
        t_bt = best_of(bt_run.run, 1)
        ref = bt_run.run()
    t_py = best_of(lambda: run_strategy(bars, FfeBracket, cfg), 2)
    t_c = best_of(lambda: run_compiled_strategy(bars, SMA_BRACKET, cfg, **p), 3)
    ours = run_compiled_strategy(bars, SMA_BRACKET, cfg, **p)
    same = len(ours.trades) == ref["# Trades"] and np.isclose(
        ours.equity[-1], ref["Equity Final [$]"], rtol=1e-9
    )
    print(f"\n[4] order-level SMA({FAST},{SLOW}) + SL/TP + trailing stop, {n:,} bars")
    print(f"  backtesting.py        {n / t_bt / 1e3:10.1f} k bars/s  ({t_bt:.2f} s)")
    print(f"  ffe Python Strategy   {n / t_py / 1e3:10.1f} k bars/s  ({t_py:.2f} s)")
    print(f"  ffe compiled          {n / t_c / 1e3:10.1f} k bars/s  ({t_c * 1e3:.1f} ms)")
    print(
        f"  ratio Python Strategy / backtesting.py: {t_bt / t_py:.1f}x  (target >= 1x); "
        f"compiled / backtesting.py: {t_bt / t_c:.0f}x; "
        f"{ref['# Trades']} trades, equal results: {bool(same)}"
    )


def portfolio_row(n: int, k: int = 4) -> None:
    """[5] ``k`` instruments x ``n`` bars on one account with the agent's default risk limits
    (kill switch and daily loss set out of reach so the whole run trades): SMA targets + fills."""
    from ffe_core.backtest.portfolio import run_portfolio
    from ffe_core.config import RiskSettings

    bars = [synthetic(n, seed=s) for s in range(k)]
    costs = [FillConfig(commission=COMMISSION, unit_step=0.0)] * k
    risk = RiskSettings(max_daily_loss=1.0, max_drawdown=1.0)
    symbols = [f"S{j}" for j in range(k)]

    def go(protective: bool = False):  # type: ignore[no-untyped-def]
        targets = [sma_cross(b.open, b.high, b.low, b.close, b.volume, short=True) for b in bars]
        return run_portfolio(
            symbols, bars, targets, costs, cash=100_000.0, risk=risk, protective=protective
        )

    tiny = [synthetic(200, seed=s) for s in range(k)]
    tt = [sma_cross(b.open, b.high, b.low, b.close, b.volume) for b in tiny]
    run_portfolio(symbols, tiny, tt, costs, cash=100_000.0, risk=risk)  # compile
    print(f"\n[5] portfolio: {k} instruments x {n:,} bars, one account, risk limits")
    for label, protective in (("", False), (" + risk stops", True)):
        t = best_of(lambda p=protective: go(p), 3)
        res = go(protective)
        print(
            f"  ffe{label:13s} {k * n / t / 1e6:8.1f} M instrument-bars/s  ({t * 1e3:.0f} ms, "
            f"{sum(len(x) for x in res.trades):,} trades)  (target >= 10)"
        )


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def big_run(n_big: int) -> None:
    if n_big:
        import tracemalloc

        # ru_maxrss survives exec: the forked parent's size (vectorbt's sweep) would count.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # Linux: reset the peak (VmHWM) to the current RSS
        big = synthetic(n_big)
        tracemalloc.start()
        t0 = time.perf_counter()
        target = sma_cross(big.open, big.high, big.low, big.close, big.volume, fast=FAST, slow=SLOW)
        res = simulate(big, target, FillConfig(commission=COMMISSION))
        dt = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = _peak_rss_mib()
        print(
            f"\n[3] {n_big:,} bars: {dt:.2f} s, {len(res.trades):,} trades; "
            f"run peak (tracemalloc, excl. input bars) {peak / 2**20:.0f} MiB; "
            f"process max RSS {rss:.0f} MiB (target <= 1536 MiB)"
        )


if __name__ == "__main__":
    main()
