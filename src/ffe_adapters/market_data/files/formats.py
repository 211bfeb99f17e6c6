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
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.csv as pa_csv

from ffe_core.domain.errors import ValidationFailed

RowName = Callable[[int], str]
"""Words the place of the 0-based data row ``i`` for an error message."""

CANDLE_COLUMNS = ("date", "open", "high", "low", "close", "volume")
"""Column names given to headerless rows: ccxt's ``fetch_ohlcv`` order, which freqtrade keeps."""

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


def columns_of(header: Sequence[str], where: str) -> tuple[int, dict[str, int]]:
    """Position of the time column and of each price (and volume) column in ``header``."""
    lowered = [h.strip().lower() for h in header]
    positions = {name: lowered.index(name) for name in (*PRICE_NAMES, "volume") if name in lowered}
    missing = [n for n in PRICE_NAMES if n not in positions]
    if missing:
        raise ValidationFailed(f"{where}: missing column(s) {', '.join(missing)}: {list(header)}")
    if lowered and lowered[0] in TIME_NAMES:
        return 0, positions
    named = next((i for i, h in enumerate(lowered) if h in TIME_NAMES), None)
    if named is None:
        taken = set(positions.values())
        named = next((i for i in range(len(lowered)) if i not in taken), None)
    if named is None:
        raise ValidationFailed(f"{where}: no time column in {list(header)}")
    return named, positions


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


class Columns(Protocol):
    """What the loader needs of a table; ``pyarrow.Table`` is one."""

    @property
    def column_names(self) -> list[str]: ...

    @property
    def num_rows(self) -> int: ...

    def column(self, i: int) -> pa.ChunkedArray: ...


class ParquetColumns:
    """A Parquet file read one column at a time, so only the column being converted is held
    in Arrow memory (a whole table read peaked about 60 % higher on 1M bars)."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self._where = str(path)
        self._file = pq.ParquetFile(path)
        self.column_names: list[str] = list(self._file.schema_arrow.names)
        self.num_rows: int = self._file.metadata.num_rows

    def column(self, i: int) -> pa.ChunkedArray:
        try:
            return self._file.read(columns=[self.column_names[i]]).column(0)
        except (OSError, pa.ArrowException) as exc:
            raise ValidationFailed(
                f"{self._where}: not a readable parquet file ({_first_line(exc)})"
            ) from None


def read_table(path: Path) -> tuple[Columns, RowName]:
    """The file at ``path`` as columns, and how to name its rows in errors."""
    kind = kind_of(path)
    where = str(path)
    if kind == "csv":
        return _read_csv(path)

    def row(i: int) -> str:
        return f"{where} row {i + 1}"

    try:
        if kind == "parquet":
            return ParquetColumns(path), row
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


_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_INTEGER = re.compile(r"[+-]?\d+")


def _cells(line: bytes) -> list[str]:
    try:
        return next(csv.reader([line.decode("utf-8", "replace").rstrip("\r\n")]), [])
    except csv.Error:  # the reader that follows will name the line
        return []


def _column_types(header: list[str], sample: list[str]) -> dict[str, pa.DataType]:
    """Types for pyarrow's reader, so it parses without an inference pass (which also holds
    the time column as text): prices as floats, the time column as what its first cell is."""
    types: dict[str, pa.DataType] = {
        h: pa.float64() for h in header if h.strip().lower() in (*PRICE_NAMES, "volume")
    }
    try:
        at, _ = columns_of(header, "")
    except ValidationFailed:
        return types
    cell = sample[at].strip() if at < len(sample) else ""
    if _INTEGER.fullmatch(cell):
        types[header[at]] = pa.int64()
    elif cell:
        try:
            float(cell)
            types[header[at]] = pa.float64()
        except ValueError:
            aware = _OFFSET.search(cell) is not None
            types[header[at]] = pa.timestamp("ns", "UTC" if aware else None)
    return types


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
            first, second = handle.readline(4096), handle.readline(4096)
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

    types = _column_types(names or _cells(first), _cells(second if names is None else first))
    try:
        table = pa_csv.read_csv(
            where,
            read_options=pa_csv.ReadOptions(column_names=names),
            convert_options=pa_csv.ConvertOptions(column_types=types),
        )
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
