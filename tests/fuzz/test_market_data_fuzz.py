"""Fuzzing the market-data parsers: CSV bytes and provider JSON.

Every parser answers bars or its typed error naming where the input was bad (the row or line) —
never KeyError, TypeError, OverflowError or UnicodeDecodeError. ``tests/adapters/market_data/files``
already fuzzes text appended to a valid files-adapter CSV; here: raw bytes (gzip too), the
the one bar loader (the files adapter's ``read_bars``, which the backtests use too), and each
REST source's row parser on arbitrary JSON.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ffe_adapters.market_data.alphavantage.data import parse_series
from ffe_adapters.market_data.coingecko.data import parse_ohlc
from ffe_adapters.market_data.files.reader import read_bars
from ffe_adapters.market_data.http import make_quote
from ffe_adapters.market_data.polygon.data import parse_aggs
from ffe_adapters.market_data.twelvedata.data import parse_values
from ffe_core.domain.errors import MarketDataError, ValidationFailed
from ffe_core.domain.market import Bar

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = b"Date,Open,High,Low,Close,Volume\n"
GOOD_ROW = b"2024-01-01 00:00:00,10,12,9,11,100\n"

cells = st.one_of(
    st.sampled_from(
        ["", "1", "0", "-1", "nan", "inf", "-inf", "1e400", "1e-400", "10", "12", "9", "1_0"]
    ),
    st.sampled_from(
        [
            "2024-01-01",
            "2024-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "1e20",
            "-1e20",
            "1700000000",
            "1700000000000",
            "99999-01-01",
            "NaT",
        ]
    ),
    st.text(max_size=8),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=7), max_size=6)


def csv_bytes(table: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in table).encode("utf-8", "surrogatepass")


def assert_bars(bars: list[Bar]) -> None:
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.volume >= 0 and bar.ts.tzinfo is not None
        assert all(math.isfinite(v) for v in (bar.open, bar.high, bar.low, bar.close))


def assert_names_a_place(message: str, pattern: str) -> None:
    assert re.search(pattern, message), message
    assert "\n" not in message.strip(), message


# ---- the backtest CSV loader -------------------------------------------------------------


def backtest_load(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_bytes(raw)
        try:
            bars = read_bars(path)
        except ValidationFailed as exc:
            assert_names_a_place(str(exc), r"data\.csv")
            return
    n = len(bars)
    assert n > 0
    assert bool(np.all(bars.high >= bars.low)) and bool(np.all(np.isfinite(bars.close)))
    assert bars.time is not None and bool(np.all(np.diff(bars.time.view(np.int64)) > 0))


@FUZZ
@given(raw=st.binary(max_size=200))
@example(raw=HEADER + b"2024-01-01,\xff\xfe,1,1,1,1\n")  # not UTF-8
@example(raw=HEADER + b"2024-01-01,1\x00,1,1,1,1\n")  # NUL byte
@example(raw=HEADER + b'2024-01-01,"1,1,1,1,1\n')  # unterminated quote
def test_backtest_loader_on_raw_bytes(raw: bytes) -> None:
    backtest_load(raw)


@FUZZ
@given(table=rows)
@example(table=[["99999-01-01", "1", "1", "1", "1", "1"]])
@example(table=[["2024-01-01", "1e400", "1", "1", "1", "1"]])
@example(table=[["1e20", "1", "1", "1", "1", "1"]])
def test_backtest_loader_on_rows(table: list[list[str]]) -> None:
    backtest_load(HEADER + csv_bytes(table) + b"\n")


def test_backtest_loader_names_the_line() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_bytes(HEADER + GOOD_ROW + b"2024-01-01 01:00:00,10,12,9,x,100\n")
        with pytest.raises(ValidationFailed, match=r"data\.csv line 3: close 'x'"):
            read_bars(path)
        path.write_bytes(HEADER + GOOD_ROW + b"2024-01-01 01:00:00,\xff,12,9,11,100\n")
        with pytest.raises(ValidationFailed, match=r"data\.csv line 3: not UTF-8"):
            read_bars(path)


# ---- the files adapter: the same loader in file order (duplicates kept), gzip, JSON -------


def files_load(raw: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"BTC-USD_1h{suffix}"
        path.write_bytes(raw)
        try:
            bars = read_bars(path, ordered=False)
        except ValidationFailed as exc:
            assert str(path) in str(exc), str(exc)
            assert "\n" not in str(exc).strip(), str(exc)
            return
    assert bool(np.all(bars.high >= bars.low)) and bool(np.all(np.isfinite(bars.close)))
    assert bars.time is not None and not bool(np.any(np.isnat(bars.time)))


@FUZZ
@given(raw=st.binary(max_size=200), gz=st.booleans())
@example(raw=HEADER + b"2024-01-01,1\x00,1,1,1,1\n", gz=False)
@example(raw=HEADER + b"9999-12-31T23:59:59-14:00,1,1,1,1,1\n", gz=False)
@example(raw=HEADER + b"1e300,1,1,1,1,1\n", gz=False)
def test_files_adapter_on_raw_bytes(raw: bytes, gz: bool) -> None:
    if gz:
        files_load(gzip.compress(raw), ".csv.gz")
        files_load(raw, ".csv.gz")  # claims gzip, is not
    else:
        files_load(raw, ".csv")


@FUZZ
@given(table=rows)
def test_files_adapter_on_rows(table: list[list[str]]) -> None:
    files_load(HEADER + csv_bytes(table) + b"\n", ".csv")


@FUZZ
@given(
    values=st.lists(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6), cells),
        min_size=6,
        max_size=6,
    )
)
@example(values=[2**2000, 1, 1, 1, 1, 1])
@example(values=[1.7e12, 2**2000, 1, 1, 1, 1])
@example(values=[10**400, 1, 1, 1, 1, 1])
def test_files_adapter_on_json_candles(values: list[Any]) -> None:
    """freqtrade/ccxt ``[[ms, o, h, l, c, v]]`` rows holding anything JSON can."""
    raw = json.dumps([[1_700_000_000_000, 1, 1, 1, 1, 1], values]).encode()
    files_load(raw, ".json")


# ---- the REST sources' row parsers -------------------------------------------------------

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),  # too big for a float
    st.floats(),
    st.text(max_size=10),
    cells,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=15,
)
OHLC_KEYS = ["t", "o", "h", "l", "c", "v", "datetime", "open", "high", "low", "close", "volume"]
row_dicts = st.dictionaries(st.sampled_from(OHLC_KEYS), json_scalar, max_size=7)
AV_KEYS = ["1. open", "2. high", "3. low", "4. close", "5. volume", "1a. open (USD)", "1b. x"]
av_entries = st.dictionaries(st.sampled_from(AV_KEYS), json_scalar, max_size=6)


def rest(parse: Any, body: Any, place: str) -> None:
    try:
        bars = parse(body)
    except MarketDataError as exc:
        assert str(exc).split(":")[0], str(exc)
        assert re.match(place, str(exc)), str(exc)
        return
    assert_bars(bars)


@FUZZ
@given(
    body=st.one_of(
        json_value,
        st.lists(st.lists(json_scalar, min_size=5, max_size=5), max_size=4),
        st.lists(json_value, max_size=4),
    )
)
@example(body=[[2**2000, 1, 1, 1, 1]])
@example(body=[[1.7e12, 2**2000, 1, 1, 1]])
@example(body=[[float("nan"), 1, 1, 1, 1]])
def test_coingecko_ohlc(body: Any) -> None:
    rest(lambda b: parse_ohlc(b, 1800), body, r"coingecko ohlc")


@FUZZ
@given(
    body=st.one_of(
        json_value,
        st.fixed_dictionaries({"results": st.lists(row_dicts, max_size=4)}),
        st.fixed_dictionaries({"results": json_value}),
    )
)
@example(body={"results": [{"t": 1.7e12, "o": 2**2000, "h": 1, "l": 1, "c": 1}]})
@example(body={"results": [{"t": 10**400, "o": 1, "h": 1, "l": 1, "c": 1}]})
@example(body={"results": [[1, 2]]})
def test_polygon_aggs(body: Any) -> None:
    rest(parse_aggs, body, r"polygon aggs")


@FUZZ
@given(
    body=st.one_of(
        json_value,
        st.fixed_dictionaries({"values": st.lists(row_dicts, max_size=4)}),
        st.fixed_dictionaries({"values": json_value}),
    )
)
@example(body={"values": [{"datetime": "2024-01-01", "open": 2**2000}]})
@example(body={"values": [{"datetime": "9999-12-31T23:59:59-14:00", "open": 1}]})
@example(body={"values": [{"datetime": 2**70, "open": 1}]})
def test_twelvedata_values(body: Any) -> None:
    rest(parse_values, body, r"twelvedata time_series")


@FUZZ
@given(
    body=st.one_of(
        json_value,
        st.fixed_dictionaries(
            {
                "Meta Data": st.one_of(
                    json_value,
                    st.fixed_dictionaries(
                        {"6. Time Zone": st.sampled_from(["UTC", "US/Eastern", "Mars/Base", ""])}
                    ),
                ),
                "Time Series (60min)": st.one_of(
                    json_value,
                    st.dictionaries(
                        st.one_of(cells, st.just("2024-01-02 10:00:00")), av_entries, max_size=3
                    ),
                ),
            }
        ),
    )
)
@example(body={"Time Series (Daily)": {"2024-01-02": {"1. open": 2**2000}}})
@example(body={"Meta Data": {"6. Time Zone": "../../etc/passwd"}, "Time Series (Daily)": {}})
@example(body={"Time Series (60min)": {"9999-12-31 23:59:59": {"1. open": 1}}})
def test_alphavantage_series(body: Any) -> None:
    rest(parse_series, body, r"alphavantage")


@FUZZ
@given(bid=json_scalar, ask=json_scalar)
@example(bid=2**2000, ask=1)
@example(bid="1e-400", ask="1")
def test_quote_from_provider_fields(bid: Any, ask: Any) -> None:
    try:
        quote = make_quote("src quote", "BTC-USD", datetime(2024, 1, 1, tzinfo=UTC), bid, ask)
    except MarketDataError as exc:
        assert str(exc).startswith("src quote"), str(exc)
        return
    assert 0 < quote.bid <= quote.ask
