from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import backtesting
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffe_adapters.market_data.files.config import FilesOptions
from ffe_adapters.market_data.files.data import FilesSource
from ffe_adapters.market_data.files.reader import load_bars, parse_csv_text
from ffe_core.config import DEFAULT_INSTRUMENTS
from ffe_core.domain.errors import MarketDataError
from ffe_core.ports.clock import ManualClock

SAMPLES = Path(backtesting.__file__).parent / "test"
AAPL, EUR = DEFAULT_INSTRUMENTS[3], DEFAULT_INSTRUMENTS[2]


def test_backtesting_goog_csv_loads_as_is():
    bars = load_bars(SAMPLES / "GOOG.csv")
    assert len(bars) > 2000
    assert bars[0].ts == datetime(2004, 8, 19, tzinfo=UTC)
    assert (bars[0].open, bars[0].close, bars[0].volume) == (100, 100.34, 22351900)


async def test_hourly_file_resamples_to_4h_and_quotes_from_last_close(tmp_path: Path):
    shutil.copy(SAMPLES / "EURUSD.csv", tmp_path / "EUR-USD.csv")
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    source = FilesSource(FilesOptions(directory=str(tmp_path), spread_bps=1), clock=clock)
    hourly = await source.get_bars(EUR, "1h", limit=50)
    four = await source.get_bars(EUR, "4h", limit=10)
    assert len(hourly) == 50 and len(four) == 10
    assert all(b.ts.hour % 4 == 0 for b in four)
    quote = await source.get_quote(EUR)
    assert quote.bid < quote.ask


async def test_finer_interval_than_file_is_refused(tmp_path: Path):
    shutil.copy(SAMPLES / "GOOG.csv", tmp_path / "AAPL.csv")
    source = FilesSource(FilesOptions(directory=str(tmp_path)))
    with pytest.raises(MarketDataError, match="cannot make 1h bars"):
        await source.get_bars(AAPL, "1h")


async def test_missing_file_names_where_it_looked(tmp_path: Path):
    with pytest.raises(MarketDataError, match=r"no file for AAPL in"):
        await FilesSource(FilesOptions(directory=str(tmp_path))).get_bars(AAPL, "1d")


def test_parquet_round_trip(tmp_path: Path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    stamps = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2)]
    table = pa.table(
        {
            "timestamp": stamps,
            "open": [1.0, 2.0],
            "HIGH": [2.0, 3.0],
            "low": [0.5, 1.5],
            "Close": [1.5, 2.5],
        }
    )
    pq.write_table(table, tmp_path / "x.parquet")
    bars = load_bars(tmp_path / "x.parquet")
    assert [b.ts for b in bars] == stamps
    assert bars[1].close == 2.5 and bars[1].volume == 0


def test_bad_row_is_named_by_line():
    text = ",Open,High,Low,Close,Volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,0.5,2,1.5,10\n"
    with pytest.raises(MarketDataError, match=r"x\.csv:3: bar: .*high 0.5 < low 2"):
        parse_csv_text(text, "x.csv")


def test_naive_times_are_read_in_the_configured_zone():
    text = "Date,open,high,low,close\n2024-01-01 09:30:00,1,2,0.5,1.5\n"
    bars = parse_csv_text(text, "x.csv", timezone="US/Eastern")
    assert bars[0].ts == datetime(2024, 1, 1, 14, 30, tzinfo=UTC)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_garbage_never_crashes_and_errors_name_a_row(tail: str):
    text = ",Open,High,Low,Close,Volume\n2024-01-01,1,2,0.5,1.5,10\n" + tail
    try:
        bars = parse_csv_text(text, "g.csv")
    except MarketDataError as exc:
        assert str(exc).startswith("g.csv:")
        assert str(exc).split(":")[1].isdigit()
    else:
        assert bars and bars[0].close == 1.5
