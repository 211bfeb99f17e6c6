"""The whole ``ffe backtest`` process vs a whole vectorbt process on the same Parquet and CSV files.

What a user waits for: start the interpreter, read the file, SMA(10,30) cross signals, fills
(commission 0.1 %, fractional units, next-bar open) and the statistics, printed. vectorbt's
process reads the file with pandas (pyarrow engines, the fastest pandas offers), builds the same
signals with ``vbt.MA`` and runs ``Portfolio.from_signals(...)``, printing its final value only
(``--vbt-stats`` prints ``.stats()`` instead, like ffe's statistics; in vectorbt 1.2 that takes
minutes on 4M bars, so the default peer is the faster, stricter one). vectorbt compiles its numba
functions in every process; that is part of its start-up as measured.

Marginal throughput = (big - small bars) / (time on big - time on small): the bars per second a
longer history costs, with start-up cancelled out. Start-up itself is timed on a 1,000-bar file.
Targets (issue 20): Parquet >= 2x vectorbt, CSV >= 1x. Needs the ``bench`` extra (vectorbt).

    python -m benchmarks.backtest_process [--small 1000000] [--big 4000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.fresh_process import run_timed

VBT_SCRIPT = """
import sys
import numpy as np
import pandas as pd
import vectorbt as vbt

path = sys.argv[1]
if path.endswith(".parquet"):
    df = pd.read_parquet(path)
else:
    df = pd.read_csv(path, index_col=0, engine="pyarrow")
close, open_ = df["Close"].to_numpy(), df["Open"].to_numpy()
f = vbt.MA.run(close, 10).ma.values
s = vbt.MA.run(close, 30).ma.values
up = np.zeros(close.size, bool)
down = np.zeros(close.size, bool)
up[1:] = (f[:-1] < s[:-1]) & (f[1:] > s[1:])
down[1:] = (f[:-1] > s[:-1]) & (f[1:] < s[1:])
entries, exits = np.r_[False, up[:-1]], np.r_[False, down[:-1]]  # fill on the next open
pf = vbt.Portfolio.from_signals(
    pd.Series(close, index=df.index), entries, exits, price=open_, fees=0.001, init_cash=10_000
)
print(pf.stats().to_string() if sys.argv[2] == "stats" else pf.final_value())
"""


def write_bars(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0005, n)))
    open_ = np.r_[close[0], close[:-1]]
    wiggle = 1 + np.abs(rng.normal(0, 0.0003, n))
    frame = pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) * wiggle,
            "Low": np.minimum(open_, close) / wiggle,
            "Close": close,
            "Volume": rng.integers(1, 1000, n).astype(float),
        },
        index=pd.date_range("2000-01-01", periods=n, freq="min", tz="UTC"),
    )
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path)


def timed(cmds: dict[Any, list[str]], repeat: int) -> dict[Any, tuple[float, float]]:
    """Best wall and best CPU time of each command, the commands alternating in each round (a
    burst of load from other processes hits both peers alike)."""
    best = {k: (math.inf, math.inf) for k in cmds}
    for _ in range(repeat):
        for k, cmd in cmds.items():
            wall, cpu = run_timed(cmd)
            best[k] = (min(best[k][0], wall), min(best[k][1], cpu))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=1_000_000)
    ap.add_argument("--big", type=int, default=4_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--vbt-stats", action="store_true", help="vectorbt prints pf.stats()")
    args = ap.parse_args()
    try:
        import vectorbt  # noqa: F401
    except ImportError:
        raise SystemExit("vectorbt is not installed: pip install -e '.[bench]'") from None
    ffe = str(Path(sys.executable).with_name("ffe"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "config").mkdir()
        vbt_script = root / "vbt_backtest.py"
        vbt_script.write_text(VBT_SCRIPT)

        def ffe_cmd(data: Path) -> list[str]:
            return [
                ffe,
                "--config-dir",
                str(root / "config"),
                "backtest",
                "--data",
                str(data),
                "--strategy",
                "sma_cross",
                "--param",
                "fast=10",
                "--param",
                "slow=30",
                "--commission",
                "0.001",
                "--fractional",
                "--json",
            ]

        mode = "stats" if args.vbt_stats else "value"

        def vbt_cmd(data: Path) -> list[str]:
            return [sys.executable, str(vbt_script), str(data), mode]

        for suffix in (".parquet", ".csv"):
            sizes = {"tiny": 1_000, "small": args.small, "big": args.big}
            files = {k: root / f"{k}{suffix}" for k in sizes}
            for key, n in sizes.items():
                write_bars(files[key], n)
            for cmd in (ffe_cmd, vbt_cmd):  # warm numba's on-disk caches
                run_timed(cmd(files["tiny"]))
            both = timed(
                {
                    (who, key): cmd(files[key])
                    for key in sizes
                    for who, cmd in (("ffe", ffe_cmd), ("vectorbt", vbt_cmd))
                },
                args.repeat,
            )
            extra = sizes["big"] - sizes["small"]
            target = 2.0 if suffix == ".parquet" else 1.0
            print(f"\n{suffix[1:]}: whole process, best of {args.repeat} alternating rounds")
            for col, label in ((0, "wall"), (1, "CPU (all threads)")):
                t = {k: v[col] for k, v in both.items()}
                rates = {}
                print(f"  {label} time:")
                for who in ("ffe", "vectorbt"):
                    span = t[(who, "big")] - t[(who, "small")]
                    rates[who] = extra / span if span > 0 else math.inf
                    print(
                        f"    {who:<9} start-up (1k bars) {t[(who, 'tiny')]:.2f} s   "
                        f"{sizes['small']:,} bars {t[(who, 'small')]:.2f} s   "
                        f"{sizes['big']:,} bars {t[(who, 'big')]:.2f} s   "
                        f"marginal {rates[who] / 1e6:.2f} M bars/s"
                    )
                print(
                    f"    marginal throughput ffe / vectorbt: "
                    f"{rates['ffe'] / rates['vectorbt']:.2f}x (target >= {target:g}x); whole "
                    f"{sizes['big']:,}-bar run: {t[('vectorbt', 'big')] / t[('ffe', 'big')]:.2f}x"
                )


if __name__ == "__main__":
    main()
