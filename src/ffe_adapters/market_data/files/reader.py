"""The one bar loader: an OHLCV file in any format :mod:`.formats` reads, as backtest arrays.

Columns: a time column (the first column when its header is empty or one of date/datetime/time/
timestamp/ts, as backtesting.py, pandas and freqtrade write it, or any column so named) and
Open/High/Low/Close in any case; Volume optional (NaN when absent). Times are Arrow timestamps,
dates, ISO text (naive text is read in ``timezone``) or Unix epochs: seconds, milliseconds,
microseconds or nanoseconds, told apart by magnitude unless ``time_unit`` says which. Every
refusal is a :class:`ValidationFailed` naming the file and the row (CSV: the line).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ffe_adapters.market_data.files.formats import RowName, columns_of, read_table
from ffe_core.backtest.data import Bars, make_bars
from ffe_core.domain.errors import ValidationFailed

TimeUnit = Literal["iso", "s", "ms", "us", "ns"]
"""How a time column is read: ISO text, or a Unix epoch in that unit."""
TIME_UNITS: tuple[str, ...] = get_args(TimeUnit)

_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64_MAX = np.iinfo(np.int64).max


def read_bars(
    path: str | Path,
    *,
    timezone: str = "UTC",
    time_unit: TimeUnit | None = None,
    ordered: bool = True,
) -> Bars:
    """Bars from the file at ``path``, in file order, times as naive UTC ``datetime64[ns]``.

    ``ordered`` also refuses times that do not increase (what a backtest needs); the files
    source passes False so its quality report can see duplicates and gaps as the file has them.
    """
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ValidationFailed(f"time unit {time_unit!r}: use one of {', '.join(TIME_UNITS)}")
    p = Path(path)
    table, row = read_table(p)
    where = str(p)
    if table.num_rows == 0:
        raise ValidationFailed(f"{where}: no bars (the file holds no rows)")
    time_col, cols = columns_of(table.column_names, where)
    pending = {name: table.column(j) for name, j in cols.items()}
    pending["time"] = table.column(time_col)
    del table  # each Arrow column is freed once it is converted, so memory peaks lower
    pool = pa.default_memory_pool()
    times = time_ns(pending.pop("time"), row, ZoneInfo(timezone), time_unit)
    pool.release_unused()  # hand the freed column back to the OS before the next copy
    prices = {}
    for name in list(pending):
        prices[name] = _floats(pending.pop(name), name, row)
        pool.release_unused()
    return make_bars(
        prices["open"],
        prices["high"],
        prices["low"],
        prices["close"],
        prices.get("volume"),
        times.view("datetime64[ns]"),
        row_name=row,
        ordered=ordered,
    )


def as_numpy(column: pa.ChunkedArray, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """A writable numpy array of a fixed-width column: a view of Arrow's memory when the chunks
    lie end to end in one mutable buffer (readers often slice one buffer), else one copy."""
    chunks = column.chunks
    if not chunks:
        return np.empty(0, dtype)
    if column.null_count == 0:
        first = chunks[0].buffers()[1]
        start = first.address + chunks[0].offset * dtype.itemsize
        end = start
        for chunk in chunks:
            buffer = chunk.buffers()[1]
            if buffer.address + chunk.offset * dtype.itemsize != end:
                break
            end += len(chunk) * dtype.itemsize
        else:
            if first.is_mutable and end <= first.address + first.size:
                offset = start - first.address
                return np.frombuffer(first, dtype, count=len(column), offset=offset)
        out = np.empty(len(column), dtype)
        at = 0
        for chunk in chunks:
            size = len(chunk)
            out[at : at + size] = np.frombuffer(
                chunk.buffers()[1], dtype, count=size, offset=chunk.offset * dtype.itemsize
            )
            at += size
        return out
    parts = [chunk.to_numpy(zero_copy_only=False) for chunk in chunks]
    return np.concatenate(parts).astype(dtype, copy=False)


def _first_null(column: pa.ChunkedArray) -> int:
    return int(np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))[0])


def _floats(column: pa.ChunkedArray, name: str, row: RowName) -> npt.NDArray[np.float64]:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        if column.null_count and name != "volume":
            raise ValidationFailed(f"{row(_first_null(column))}: {name} is missing")
        if pa.types.is_float64(kind):
            return as_numpy(column, np.dtype(np.float64))
        parts = [chunk.to_numpy(zero_copy_only=False) for chunk in column.chunks]
        return np.concatenate(parts).astype(np.float64, copy=False)
    values = column.to_pylist()
    out = np.empty(len(values))
    for i, value in enumerate(values):
        if value is None or value == "":
            if name != "volume":
                raise ValidationFailed(f"{row(i)}: {name} is missing")
            out[i] = np.nan
            continue
        try:
            out[i] = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValidationFailed(f"{row(i)}: {name} {value!r} is not a number") from None
    return out


def time_ns(
    column: pa.ChunkedArray, row: RowName, zone: tzinfo, unit: TimeUnit | None = None
) -> npt.NDArray[np.int64]:
    """Nanoseconds since the Unix epoch (UTC) for each cell of a time column."""
    if column.null_count:
        raise ValidationFailed(f"{row(_first_null(column))}: time is missing")
    kind = column.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
    if unit not in (None, "iso") and not numeric and not pa.types.is_timestamp(kind):
        return _epochs(_floats(column, "time", row), row, unit)
    if numeric:
        if unit == "iso":
            raise ValidationFailed(f"{row(0)}: time is a number, not ISO text")
        return _epochs(column.to_numpy(zero_copy_only=False), row, unit)
    try:
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            return _arrow_times(column, zone, row)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            try:
                return _arrow_times(pc.cast(column, pa.timestamp("ns", "UTC")), zone, row)
            except pa.ArrowException:
                return _arrow_times(pc.cast(column, pa.timestamp("ns")), zone, row)
    except pa.ArrowException:
        pass
    return _times_slowly(column.to_pylist(), row, zone)


def _arrow_times(column: pa.ChunkedArray, zone: tzinfo, row: RowName) -> npt.NDArray[np.int64]:
    """Arrow timestamps or dates (naive ones in ``zone``) as UTC nanoseconds; a time outside
    what nanoseconds hold (1678-2262) is refused naming its row."""
    if pa.types.is_date(column.type):
        column = pc.cast(column, pa.timestamp("s"))
    kind = column.type
    if kind.tz is None and str(zone) != "UTC":
        column = pc.assume_timezone(column, str(zone), ambiguous="earliest", nonexistent="earliest")
    values = as_numpy(column, np.dtype(np.int64))  # the int64 buffers themselves
    return _scaled(values, _NS_PER[kind.unit], row, kind.unit)


def _epochs(values: npt.NDArray[Any], row: RowName, unit: TimeUnit | None) -> npt.NDArray[np.int64]:
    """Epoch numbers in ``unit`` (or the unit their magnitude implies) as nanoseconds."""
    as_float = values.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(as_float))
    if bad.size:
        raise ValidationFailed(f"{row(int(bad[0]))}: time {values[bad[0]]!r} is not finite")
    if unit is None or unit == "iso":
        unit = epoch_unit(float(np.max(np.abs(as_float))) if as_float.size else 0.0)
    if values.dtype.kind in "iu":
        return _scaled(values.astype(np.int64), _NS_PER[unit], row, unit)
    scale = _NS_PER[unit]
    out_of_range = np.flatnonzero(np.abs(as_float) * scale >= _INT64_MAX)
    if out_of_range.size:
        i = int(out_of_range[0])
        raise ValidationFailed(f"{row(i)}: time {values[i]!r} is out of range for unit {unit}")
    return np.round(as_float * scale).astype(np.int64)


def _scaled(
    values: npt.NDArray[np.int64], scale: int, row: RowName, unit: str
) -> npt.NDArray[np.int64]:
    if scale == 1:
        return np.ascontiguousarray(values)
    limit = _INT64_MAX // scale
    out_of_range = np.flatnonzero((values > limit) | (values < -limit))
    if out_of_range.size:
        i = int(out_of_range[0])
        raise ValidationFailed(f"{row(i)}: time is out of range (years 1678-2262)")
    return values * scale


def epoch_unit(magnitude: float) -> TimeUnit:
    """The unit of a Unix epoch of this size: seconds until 1e11 (year 5138), then ms, us, ns."""
    if magnitude < 1e11:
        return "s"
    if magnitude < 1e14:
        return "ms"
    if magnitude < 1e17:
        return "us"
    return "ns"


def _times_slowly(values: list[Any], row: RowName, zone: tzinfo) -> npt.NDArray[np.int64]:
    """Cell by cell (mixed layouts, odd text), so a refusal names its row."""
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        try:
            if isinstance(value, datetime):
                ts = value
            else:
                ts = datetime.fromisoformat(str(value).strip())
            if ts.tzinfo is None or ts.utcoffset() is None:
                ts = ts.replace(tzinfo=zone)
            ns = (ts - _EPOCH) // timedelta(microseconds=1) * 1000
        except (ValueError, TypeError, OverflowError):
            raise ValidationFailed(f"{row(i)}: cannot read time {_show(value)}") from None
        if abs(ns) >= _INT64_MAX:
            raise ValidationFailed(f"{row(i)}: time {_show(value)} is out of range (1678-2262)")
        out[i] = ns
    return out


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
