"""The one bar loader reads every common candle layout; bad data names its row.

freqtrade's formats come from its data handlers (``freqtrade/data/history/datahandlers/``):
``jsondatahandler.py`` writes ``to_json(orient="values")`` of date (ms), open, high, low, close,
volume; ``featherdatahandler.py`` writes ``to_feather(compression="lz4", compression_level=9)``
of those columns with ``date`` a UTC datetime column. ccxt's ``fetch_ohlcv`` rows are the same
``[ms, o, h, l, c, v]`` lists.
"""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ffe_adapters.market_data.files.reader import read_bars
from ffe_core.domain.errors import ValidationFailed

DATA = Path(__file__).parent / "data"
HOURS = np.array(
    ["2024-01-01T00:00", "2024-01-01T01:00", "2024-01-01T02:00", "2024-01-01T03:00"],
    dtype="datetime64[ns]",
)
OHLCV = "1,2,0.5,1.5,10"


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _hours(seconds: int) -> list[int]:
    return [seconds + 3600 * i for i in range(4)]


def test_freqtrade_json_candles() -> None:
    bars = read_bars(DATA / "BTC_USDT-1h.json")
    assert np.array_equal(bars.time, HOURS)
    assert bars.close[0] == 42475.23 and bars.volume[3] == 635.08403


def test_freqtrade_json_gz(tmp_path: Path) -> None:
    path = tmp_path / "BTC_USDT-1h.json.gz"
    path.write_bytes(gzip.compress((DATA / "BTC_USDT-1h.json").read_bytes()))
    assert np.array_equal(read_bars(path).time, HOURS)


def test_freqtrade_feather_candles(tmp_path: Path) -> None:
    rows = json.loads((DATA / "BTC_USDT-1h.json").read_text())
    frame = pd.DataFrame(rows, columns=["date", "open", "high", "low", "close", "volume"])
    frame["date"] = pd.to_datetime(frame["date"], unit="ms", utc=True)
    path = tmp_path / "BTC_USDT-1h.feather"
    frame.reset_index(drop=True).to_feather(path, compression_level=9, compression="lz4")
    bars = read_bars(path)
    assert np.array_equal(bars.time, HOURS)
    assert bars.high[1] == 42775.0


def test_ccxt_rows_without_a_header(tmp_path: Path) -> None:
    ms = [s * 1000 for s in _hours(1704067200)]
    path = _csv(tmp_path, "ohlcv.csv", "".join(f"{t},{OHLCV}\n" for t in ms))
    bars = read_bars(path)
    assert np.array_equal(bars.time, HOURS) and len(bars) == 4


def test_unix_seconds_and_milliseconds_by_magnitude(tmp_path: Path) -> None:
    for name, scale in (("s.csv", 1), ("ms.csv", 1000)):
        body = "".join(f"{t * scale},{OHLCV}\n" for t in _hours(1704067200))
        bars = read_bars(_csv(tmp_path, name, f"timestamp,open,high,low,close,volume\n{body}"))
        assert np.array_equal(bars.time, HOURS), name


def test_time_unit_overrides_the_guess(tmp_path: Path) -> None:
    body = "".join(f"{t},{OHLCV}\n" for t in (1, 2, 3))
    path = _csv(tmp_path, "x.csv", f"ts,open,high,low,close,volume\n{body}")
    assert read_bars(path).time[0] == np.datetime64("1970-01-01T00:00:01", "ns")
    assert read_bars(path, time_unit="ms").time[0] == np.datetime64("1970-01-01T00:00:00.001")
    with pytest.raises(ValidationFailed, match="time unit 'days'"):
        read_bars(path, time_unit="days")  # type: ignore[arg-type]


def test_parquet_and_arrow_with_offsets_and_zones(tmp_path: Path) -> None:
    index = pd.date_range("2024-01-01", periods=4, freq="h", tz="Europe/Paris")
    frame = pd.DataFrame(
        {"Open": 1.0, "High": 2.0, "Low": 0.5, "Close": 1.5, "Volume": 10.0}, index=index
    )
    frame.to_parquet(tmp_path / "x.parquet")
    frame.reset_index(names="date").to_feather(tmp_path / "x.arrow")
    expected = HOURS - np.timedelta64(1, "h")  # Paris is UTC+1 in January
    assert np.array_equal(read_bars(tmp_path / "x.parquet").time, expected)
    assert np.array_equal(read_bars(tmp_path / "x.arrow").time, expected)


def test_iso_text_with_offsets_naive_text_in_the_zone_and_no_numpy_warning(
    tmp_path: Path,
) -> None:
    aware = _csv(
        tmp_path,
        "a.csv",
        f",Open,High,Low,Close,Volume\n2024-01-01T01:00:00+01:00,{OHLCV}\n"
        f"2024-01-01 01:00:00Z,{OHLCV}\n",
    )
    naive = _csv(tmp_path, "n.csv", f"Date,open,high,low,close,volume\n2024-01-01 09:30,{OHLCV}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(read_bars(aware).time, HOURS[:2])
        ny = read_bars(naive, timezone="America/New_York")
    assert ny.time[0] == np.datetime64("2024-01-01T14:30", "ns")


def test_volume_is_optional_and_missing_volume_is_nan(tmp_path: Path) -> None:
    path = _csv(tmp_path, "x.csv", ",open,HIGH,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,\n")
    assert np.isnan(read_bars(path).volume[0])
    path = _csv(tmp_path, "y.csv", ",open,HIGH,Low,Close\n2020-01-01,1,2,0.5,1.5\n")
    assert np.isnan(read_bars(path).volume[0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"2024-01-01,{OHLCV}\n2024-01-02,1,2,0.5,x,1\n", r"line 3: close 'x' is not a number"),
        (f"2024-01-01,{OHLCV}\n\n2024-01-02,1,0.4,0.5,1,1\n", r"line 4: high 0.4 < low 0.5"),
        (f"2024-01-02,{OHLCV}\n2024-01-01,{OHLCV}\n", r"line 3: time .* is not after"),
        (f"2024-01-01,{OHLCV}\n2024-01-02,1,2\n", r"line 3: expected 6 fields, got 3"),
        (f"2024-01-01,{OHLCV}\nnope,{OHLCV}\n", r"line 3: cannot read time 'nope'"),
        (f"2024-01-01,{OHLCV}\n2024-01-02,1,2,0.5,,1\n", r"line 3: close is missing"),
        (f"2024-01-01,{OHLCV}\n9999-01-02,{OHLCV}\n", r"line 3: time .*out of range"),
        (f"2024-01-01,{OHLCV}\n2024-01-02,-1,2,0.5,1,1\n", r"line 3: open must be positive"),
    ],
)
def test_bad_rows_are_named_by_line(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, "bad.csv", ",Open,High,Low,Close,Volume\n" + text)
    with pytest.raises(ValidationFailed, match=r"bad\.csv " + message):
        read_bars(path)


def test_bad_json_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps([[1704067200000, 1, 2, 0.5, 1.5, 1], [1704070800000, 1, 2, 3, 1]]))
    with pytest.raises(ValidationFailed, match=r"c\.json row 2: high 2.0 < low 3.0"):
        read_bars(path)
    path.write_text(json.dumps({"not": "rows"}))
    with pytest.raises(ValidationFailed, match=r"c\.json: expected a list"):
        read_bars(path)


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_bytes(b",Open\n1,2\n")
    with pytest.raises(ValidationFailed, match=r"x\.parquet: not a readable parquet file"):
        read_bars(tmp_path / "x.parquet")
    with pytest.raises(ValidationFailed, match=r"cannot read"):
        read_bars(tmp_path / "absent.csv")
    with pytest.raises(ValidationFailed, match="missing column"):
        read_bars(_csv(tmp_path, "h.csv", "a,b\n1,2\n"))
