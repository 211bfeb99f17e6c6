"""Market data commands: ``ffe data fetch``."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ffe_core.domain.errors import NotFoundError, ValidationFailed
from ffe_entrypoints.cli.state import state

if TYPE_CHECKING:  # loaded by the command that fetches, not by --help
    from ffe_core.config import Settings
    from ffe_core.domain.market import Bar
    from ffe_core.services.market_data import BarsResult

console = Console()


def write_csv(bars: Sequence[Bar], path: Path) -> None:
    """The backtesting.py layout: unnamed UTC datetime index, then Open/High/Low/Close/Volume."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "Open", "High", "Low", "Close", "Volume"])
        for b in bars:
            writer.writerow([b.ts.isoformat(), b.open, b.high, b.low, b.close, b.volume])


def write_parquet(bars: Sequence[Bar], path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValidationFailed("writing Parquet needs pyarrow (pip install 'ffe[data]')") from None
    table = pa.table(
        {
            "timestamp": pa.array([b.ts for b in bars], type=pa.timestamp("us", tz="UTC")),
            "Open": [b.open for b in bars],
            "High": [b.high for b in bars],
            "Low": [b.low for b in bars],
            "Close": [b.close for b in bars],
            "Volume": [b.volume for b in bars],
        }
    )
    pq.write_table(table, path)


def _write(bars: Sequence[Bar], path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_csv(bars, path)
    elif suffix in (".parquet", ".pq"):
        write_parquet(bars, path)
    else:
        raise ValidationFailed(f"--out {path}: use a .csv or .parquet file name")


async def _fetch(
    settings: Settings, symbol: str, source_name: str, bars: int, interval: str
) -> BarsResult:
    from ffe_adapters.registry import load_registry
    from ffe_core.ports.clock import SystemClock
    from ffe_core.services.market_data import MarketDataService
    from ffe_entrypoints.selection import Build

    instrument = settings.instrument(symbol)
    if instrument is None:
        known = ", ".join(i.symbol for i in settings.instruments)
        raise NotFoundError(f"unknown instrument {symbol!r} (configured: {known})")
    source = Build(load_registry(), settings, SystemClock()).named("market_data", source_name)
    service = MarketDataService([source])
    try:
        return await service.fetch_bars(instrument, interval, limit=bars)
    finally:
        await service.close()


def _as_json(result: BarsResult, symbol: str, interval: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "interval": interval,
        "source": result.source,
        "report": result.report.to_dict(),
        "bars": [
            {
                "ts": b.ts.isoformat(),
                "open": b.open,
                "high": b.high,
                "low": b.low,
                "close": b.close,
                "volume": b.volume,
            }
            for b in result.bars
        ],
    }


def _show(result: BarsResult, symbol: str, interval: str) -> None:
    first, last = result.bars[0].ts, result.bars[-1].ts
    console.print(
        f"{symbol} {interval} from {result.source}: {len(result.bars)} bars, "
        f"{first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC",
        highlight=False,
    )
    for issue in result.report.issues():
        console.print(f"data quality: {issue}", style="yellow", highlight=False)
    table = Table("time (UTC)", "open", "high", "low", "close", "volume")
    for b in result.bars[-5:]:
        table.add_row(
            f"{b.ts:%Y-%m-%d %H:%M}",
            f"{b.open:.6g}",
            f"{b.high:.6g}",
            f"{b.low:.6g}",
            f"{b.close:.6g}",
            f"{b.volume:.6g}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    data_app = typer.Typer(help="Fetch and inspect market data.", no_args_is_help=True)

    @data_app.command("fetch")
    def fetch(
        ctx: typer.Context,
        symbol: Annotated[str, typer.Argument(help="Instrument symbol, e.g. BTC-USD.")],
        source: Annotated[
            str | None,
            typer.Option("--source", help="Market data source (default: first in chain)."),
        ] = None,
        bars: Annotated[
            int | None, typer.Option("--bars", min=1, max=100_000, help="Number of bars.")
        ] = None,
        interval: Annotated[
            str | None, typer.Option("--interval", help="Bar interval, e.g. 1h (default config).")
        ] = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the bars to a .csv or .parquet file.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Fetch closed bars for SYMBOL from one source, with its data-quality report."""
        settings = state(ctx).settings()
        symbol = symbol.upper()
        name = source or settings.market_data.sources[0]
        chosen_interval = interval or settings.market_data.interval
        count = bars or settings.market_data.history_bars
        import asyncio  # not for --help

        result = asyncio.run(_fetch(settings, symbol, name, count, chosen_interval))
        if out is not None:
            _write(result.bars, out)
        if as_json:
            typer.echo(json.dumps(_as_json(result, symbol, chosen_interval)))
        else:
            _show(result, symbol, chosen_interval)
            if out is not None:
                console.print(f"wrote {len(result.bars)} bars to {out}", highlight=False)

    app.add_typer(data_app, name="data")
