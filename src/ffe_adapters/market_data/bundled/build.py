"""Regenerate the bundled sample files: ``python -m ffe_adapters.market_data.bundled.build``.

Run once; the output is committed. Each series is a bridged synthetic path (its last close equals
its first open), so the replay can loop over it without a jump.
"""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

from ffe_core.services.synthetic import generate_ohlcv, symbol_seed

SEED = 20240101
BARS = 3000
INTERVAL = 3600
FIRST_OPEN = datetime(2024, 1, 1, tzinfo=UTC)
SERIES: dict[str, tuple[float, float, int, float]] = {
    # symbol: (start price, annual volatility, price decimals, base volume)
    "BTC-USD": (62000.0, 0.55, 2, 350.0),
    "ETH-USD": (3100.0, 0.70, 2, 4200.0),
    "EUR-USD": (1.0850, 0.07, 5, 9000.0),
    "AAPL": (188.0, 0.24, 2, 650000.0),
}


def render(symbol: str) -> bytes:
    """The gzipped CSV (backtesting.py layout) for one symbol."""
    start, vol, decimals, volume = SERIES[symbol]
    arrays = generate_ohlcv(
        symbol_seed(SEED, symbol, INTERVAL),
        BARS,
        start_price=start,
        interval_secs=INTERVAL,
        base_volatility=vol,
        base_volume=volume,
        bridge=True,
    )
    out = io.StringIO()
    out.write(",Open,High,Low,Close,Volume\n")
    for i in range(BARS):
        o = round(float(arrays.open[i]), decimals)
        c = round(float(arrays.close[i]), decimals)
        h = max(round(float(arrays.high[i]), decimals), o, c)
        low = min(round(float(arrays.low[i]), decimals), o, c)
        ts = datetime.fromtimestamp(FIRST_OPEN.timestamp() + i * INTERVAL, UTC)
        out.write(
            f"{ts:%Y-%m-%d %H:%M:%S},{o:.{decimals}f},{h:.{decimals}f},{low:.{decimals}f},"
            f"{c:.{decimals}f},{round(float(arrays.volume[i]))}\n"
        )
    return gzip.compress(out.getvalue().encode(), compresslevel=9, mtime=0)


def main(directory: Path | None = None) -> None:
    target = directory or Path(__file__).parent
    for symbol in SERIES:
        path = target / f"{symbol}_1h.csv.gz"
        path.write_bytes(render(symbol))
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
