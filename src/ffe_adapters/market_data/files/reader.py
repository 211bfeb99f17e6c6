"""Read OHLCV files into Bars, naming the file and row of anything unreadable.

Accepted layout: a header row; a time column (the first column when its header is empty or one of
date/datetime/time/timestamp/ts, as backtesting.py and pandas write it, or any column so named);
Open/High/Low/Close in any case; Volume optional. Times may be ISO strings (naive ones are read
in ``timezone``) or Unix epochs in seconds or milliseconds.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.market import Bar

TIME_NAMES = (
    "",
    "date",
    "datetime",
    "time",
    "timestamp",
    "ts",
    "index",
    "__index_level_0__",
    "unnamed: 0",
)
PRICE_NAMES = ("open", "high", "low", "close")


def _columns(header: Sequence[str], where: str) -> tuple[int, dict[str, int]]:
    lowered = [h.strip().lower() for h in header]
    positions = {name: lowered.index(name) for name in (*PRICE_NAMES, "volume") if name in lowered}
    missing = [n for n in PRICE_NAMES if n not in positions]
    if missing:
        raise MarketDataError(f"{where}: header lacks column(s) {', '.join(missing)}: {header!r}")
    if lowered and lowered[0] in TIME_NAMES:
        return 0, positions
    named = next((i for i, h in enumerate(lowered) if h in TIME_NAMES), None)
    if named is None:
        taken = set(positions.values())
        named = next((i for i in range(len(lowered)) if i not in taken), None)
    if named is None:
        raise MarketDataError(f"{where}: no time column in header {header!r}")
    return named, positions


def parse_time(value: Any, zone: tzinfo = UTC) -> datetime:
    """A UTC datetime from an ISO string, a datetime, or an epoch in seconds or milliseconds."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"time {value!r} is not finite")
        ts = datetime.fromtimestamp(number / 1000 if abs(number) >= 1e11 else number, UTC)
    else:
        text = str(value).strip()
        try:
            return parse_time(float(text), zone)
        except ValueError:
            pass
        ts = datetime.fromisoformat(text)
    if ts.tzinfo is None or ts.utcoffset() is None:
        ts = ts.replace(tzinfo=zone)
    return ts.astimezone(UTC)


def _row_bar(values: Mapping[str, Any], zone: tzinfo, where: str) -> Bar:
    try:
        ts = parse_time(values["time"], zone)
        prices = {k: float(values[k]) for k in PRICE_NAMES}
        raw_volume = values.get("volume")
        volume = 0.0 if raw_volume in (None, "") else float(raw_volume)
        return Bar(ts=ts, volume=volume, **prices)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "bar"
        raise MarketDataError(f"{where}: {field}: {first['msg']}") from None
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise MarketDataError(f"{where}: {exc}") from None


def parse_csv_text(text: str, name: str = "<csv>", *, timezone: str = "UTC") -> list[Bar]:
    """Bars from CSV text, in file order; errors name ``name`` and the 1-based line."""
    zone = ZoneInfo(timezone)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None:
            raise MarketDataError(f"{name}: empty file")
        time_col, cols = _columns(header, f"{name}:1")
        bars: list[Bar] = []
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            where = f"{name}:{reader.line_num}"
            if len(row) != len(header):
                raise MarketDataError(f"{where}: expected {len(header)} fields, got {len(row)}")
            values: dict[str, Any] = {k: row[i] for k, i in cols.items()}
            values["time"] = row[time_col]
            bars.append(_row_bar(values, zone, where))
    except csv.Error as exc:
        raise MarketDataError(f"{name}:{reader.line_num}: {exc}") from None
    return bars


def parse_records(
    columns: Mapping[str, Sequence[Any]], name: str, *, timezone: str = "UTC"
) -> list[Bar]:
    """Bars from column arrays (a Parquet table); errors name the 0-based row."""
    header = list(columns)
    time_col, cols = _columns(header, name)
    zone = ZoneInfo(timezone)
    time_values = columns[header[time_col]]
    bars = []
    for i, stamp in enumerate(time_values):
        values: dict[str, Any] = {k: columns[header[j]][i] for k, j in cols.items()}
        values["time"] = stamp
        bars.append(_row_bar(values, zone, f"{name} row {i}"))
    return bars


def load_bars(path: Path, *, timezone: str = "UTC") -> list[Bar]:
    """Bars from ``.csv``, ``.csv.gz`` or ``.parquet`` at ``path``, in file order."""
    name = str(path)
    suffixes = "".join(path.suffixes[-2:]).lower()
    try:
        if suffixes.endswith((".parquet", ".pq")):
            return _load_parquet(path, timezone)
        raw = path.read_bytes()
    except OSError as exc:
        raise MarketDataError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        if suffixes.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise MarketDataError(f"{name}: not a readable UTF-8 CSV ({exc})") from None
    return parse_csv_text(text, name, timezone=timezone)


def _load_parquet(path: Path, timezone: str) -> list[Bar]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MarketDataError(
            f"{path}: reading Parquet needs pyarrow (pip install 'ffe[data]')"
        ) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise MarketDataError(f"{path}: not a readable Parquet file ({exc})") from None
    return parse_records(table.to_pydict(), str(path), timezone=timezone)


def latest(bars: Iterable[Bar], limit: int, end: datetime | None = None) -> list[Bar]:
    """The rows among the ``limit`` latest timestamps at or before ``end``, in file order.

    File order, duplicates and all, is kept on purpose: the service's quality report should see
    what the file really holds.
    """
    rows = [b for b in bars if end is None or b.ts <= end]
    stamps = sorted({b.ts for b in rows})
    if len(stamps) <= limit:
        return rows
    cutoff = stamps[-limit]
    return [b for b in rows if b.ts >= cutoff]
