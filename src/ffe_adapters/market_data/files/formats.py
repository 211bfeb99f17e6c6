"""Every OHLCV file format the files source reads, each turned into one Arrow table.

CSV goes through pyarrow's multi-threaded reader; when that reader refuses a file (bad UTF-8,
ragged rows, a cell that is not a number) the file is read again with Python's ``csv`` module,
which knows each row's line number, so the error can name it. Parquet and Feather/Arrow IPC
(freqtrade's ``.feather`` candles included) are read as they are; JSON is freqtrade's and ccxt's
list of ``[ms, open, high, low, close, volume]`` rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from ffe_core.domain.errors import ValidationFailed

RowName = Callable[[int], str]
"""Words the place of the 0-based data row ``i`` for an error message."""

CANDLE_COLUMNS = ("date", "open", "high", "low", "close", "volume")
"""Column names given to headerless rows: ccxt's ``fetch_ohlcv`` order, which freqtrade keeps."""

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".feather", ".arrow", ".json", ".json.gz")
"""File name endings the reader knows, in the order the files source looks for them."""


def kind_of(path: Path) -> str:
    """``csv``, ``parquet``, ``arrow`` or ``json`` from the file name; CSV when unknown."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".feather", ".arrow", ".ipc")):
        return "arrow"
    if name.endswith((".json", ".json.gz")):
        return "json"
    return "csv"


def read_table(path: Path) -> tuple[pa.Table, RowName]:
    """The file at ``path`` as a table, and how to name its rows in errors."""
    kind = kind_of(path)
    where = str(path)
    if kind == "csv":
        return _read_csv(path)

    def row(i: int) -> str:
        return f"{where} row {i + 1}"

    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path), row
        if kind == "arrow":
            import pyarrow.feather as feather

            return feather.read_table(path), row
        return _json_table(_raw(path), where), row
    except OSError as exc:
        raise ValidationFailed(f"{where}: cannot read ({exc.strerror or exc})") from None
    except pa.ArrowException as exc:
        raise ValidationFailed(
            f"{where}: not a readable {kind} file ({_first_line(exc)})"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _raw(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValidationFailed(f"{path}: not a readable gzip file ({exc})") from None
    return raw


def _json_table(raw: bytes, where: str) -> pa.Table:
    """freqtrade/ccxt candles: ``[[ms, open, high, low, close, volume], ...]``."""
    try:
        rows = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(f"{where}: not JSON ({exc})") from None
    if not isinstance(rows, list):
        raise ValidationFailed(
            f"{where}: expected a list of [time, open, high, low, close, volume]"
        )
    width = len(CANDLE_COLUMNS)
    columns: list[list[Any]] = [[] for _ in range(width)]
    for i, item in enumerate(rows):
        if not isinstance(item, list) or not 5 <= len(item) <= width:
            raise ValidationFailed(
                f"{where} row {i + 1}: expected [time, open, high, low, close(, volume)]"
            )
        for j in range(width):
            value = item[j] if j < len(item) else None
            if isinstance(value, bool) or not isinstance(value, int | float | str | None):
                raise ValidationFailed(f"{where} row {i + 1}: {CANDLE_COLUMNS[j]} {value!r}")
            columns[j].append(value)
    try:
        return pa.table(
            {name: _json_column(col) for name, col in zip(CANDLE_COLUMNS, columns, strict=True)}
        )
    except (pa.ArrowException, OverflowError):
        return pa.table(
            {
                name: pa.array([None if v is None else str(v) for v in col], pa.string())
                for name, col in zip(CANDLE_COLUMNS, columns, strict=True)
            }
        )


def _json_column(values: list[Any]) -> pa.Array:
    if all(isinstance(v, int) for v in values if v is not None):
        return pa.array(values, pa.int64())
    if all(isinstance(v, int | float) for v in values if v is not None):
        return pa.array(values, pa.float64())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _headerless(first_line: bytes) -> bool:
    """True when the first line holds only numbers: ccxt-style rows without a header."""
    cells = first_line.decode("utf-8", "replace").strip().split(",")
    if len(cells) < 5:
        return False
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def _read_csv(path: Path) -> tuple[pa.Table, RowName]:
    where = str(path)
    try:
        opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as handle:
            first = handle.readline(4096)
    except (OSError, EOFError) as exc:
        raise ValidationFailed(
            f"{where}: cannot read ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    first = first.removeprefix(b"\xef\xbb\xbf")
    try:
        first.decode("utf-8")
    except UnicodeDecodeError:
        return _read_csv_slowly(path, None)
    names = list(CANDLE_COLUMNS) if _headerless(first) else None
    skip = 0 if names else 1

    def line(i: int) -> str:
        return f"{where} line {_line_of(path, i + skip)}"

    try:
        table = pa_csv.read_csv(where, read_options=pa_csv.ReadOptions(column_names=names))
    except pa.ArrowException:
        return _read_csv_slowly(path, names)
    if any(pa.types.is_binary(t) for t in table.schema.types) or not table.num_rows:
        return _read_csv_slowly(path, names)
    return table, line


def _line_of(path: Path, record: int) -> int:
    """1-based line of the 0-based ``record`` (header included), skipping empty lines as pyarrow
    does; only called to word an error."""
    seen = -1
    for number, text in enumerate(_raw(path).split(b"\n"), start=1):
        if text.strip(b"\r"):
            seen += 1
            if seen == record:
                return number
    return record + 1


def _read_csv_slowly(path: Path, names: list[str] | None) -> tuple[pa.Table, RowName]:
    """Python's csv module, line by line: slow, but every refusal names its line."""
    where = str(path)
    try:
        raw = _raw(path)
    except OSError as exc:
        raise ValidationFailed(f"{where}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        at = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed(f"{where} line {at}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[int] = []
    body: list[list[str]] = []
    try:
        header = names or next(reader, None)
        if header is None:
            raise ValidationFailed(f"{where}: the file is empty")
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ValidationFailed(
                    f"{where} line {reader.line_num}: expected {len(header)} fields, got {len(row)}"
                )
            body.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise ValidationFailed(f"{where} line {reader.line_num}: {exc}") from None
    if not body:
        raise ValidationFailed(f"{where}: no bars (header only)")

    def line(i: int) -> str:
        return f"{where} line {lines[i]}"

    columns = {
        name: pa.array([r[j].strip() or None for r in body], pa.string())
        for j, name in enumerate(_unique(header))
    }
    return pa.table(columns), line


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if not count else f"{name}.{count}")
    return out
