from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import backtesting
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffe_adapters.market_data.files.config import FilesOptions
from ffe_adapters.market_data.files.data import FilesSource
from ffe_adapters.market_data.files.reader import read_bars
from ffe_core.config import DEFAULT_INSTRUMENTS
from ffe_core.domain.errors import MarketDataError, ValidationFailed
from ffe_core.ports.clock import ManualClock

SAMPLES = Path(backtesting.__file__).parent / "test"
AAPL, EUR = DEFAULT_INSTRUMENTS[3], DEFAULT_INSTRUMENTS[2]


def test_backtesting_goog_csv_loads_as_is():
    bars = read_bars(SAMPLES / "GOOG.csv")
    assert len(bars) > 2000
    assert bars.time is not None and bars.time[0] == np.datetime64("2004-08-19", "ns")
    assert (bars.open[0], bars.close[0], bars.volume[0]) == (100, 100.34, 22351900)


async def test_source_keeps_file_order_and_duplicates_for_the_quality_report(tmp_path: Path):
    (tmp_path / "AAPL.csv").write_text(
        ",Open,High,Low,Close\n2024-01-02,1,2,0.5,1\n2024-01-01,1,2,0.5,1\n2024-01-02,1,2,0.5,1.5\n"
    )
    bars = await FilesSource(FilesOptions(directory=str(tmp_path))).get_bars(AAPL, "1d")
    assert [b.ts.day for b in bars] == [2, 1, 2] and bars[2].close == 1.5


async def test_source_reads_parquet_feather_and_json_by_name(tmp_path: Path):
    shutil.copy(Path(__file__).parent / "data" / "BTC_USDT-1h.json", tmp_path / "BTC-USD_1h.json")
    source = FilesSource(FilesOptions(directory=str(tmp_path)))
    bars = await source.get_bars(DEFAULT_INSTRUMENTS[0], "1h", limit=2)
    assert [b.ts.hour for b in bars] == [2, 3] and bars[-1].close == 42496.44


async def test_open_outside_the_range_is_named_by_the_source(tmp_path: Path):
    (tmp_path / "AAPL.csv").write_text(",Open,High,Low,Close\n2024-01-01,3,2,0.5,1\n")
    with pytest.raises(MarketDataError, match=r"AAPL\.csv row 1: .*within"):
        await FilesSource(FilesOptions(directory=str(tmp_path))).get_bars(AAPL, "1d")


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
    bars = read_bars(tmp_path / "x.parquet")
    assert bars.time is not None
    assert list(bars.time) == [np.datetime64(s.replace(tzinfo=None), "ns") for s in stamps]
    assert bars.close[1] == 2.5 and np.isnan(bars.volume[1])


async def test_bad_row_is_named_by_line(tmp_path: Path):
    (tmp_path / "AAPL.csv").write_text(
        ",Open,High,Low,Close,Volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,0.5,2,1.5,10\n"
    )
    with pytest.raises(MarketDataError, match=r"AAPL\.csv line 3: high 0.5 < low 2"):
        await FilesSource(FilesOptions(directory=str(tmp_path))).get_bars(AAPL, "1d")


async def test_naive_times_are_read_in_the_configured_zone(tmp_path: Path):
    (tmp_path / "AAPL.csv").write_text(
        "Date,open,high,low,close\n2024-01-01 09:30:00,1,2,0.5,1.5\n"
    )
    source = FilesSource(FilesOptions(directory=str(tmp_path), timezone="US/Eastern"))
    bars = await source.get_bars(AAPL, "1d")
    assert bars[0].ts == datetime(2024, 1, 1, 14, 30, tzinfo=UTC)
    assert source.read_bars(tmp_path / "AAPL.csv").time[0] == np.datetime64("2024-01-01T14:30")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_garbage_never_crashes_and_errors_name_a_row(tail: str):
    text = ",Open,High,Low,Close,Volume\n2024-01-01,1,2,0.5,1.5,10\n" + tail
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.csv"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            bars = read_bars(path, ordered=False)
        except ValidationFailed as exc:
            assert str(exc).startswith(f"{path} line ") or str(exc).startswith(f"{path}:")
        else:
            assert len(bars) and bars.close[0] == 1.5
