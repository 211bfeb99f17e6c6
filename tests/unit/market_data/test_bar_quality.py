from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ffe_core.domain.market import Bar
from ffe_core.services.bar_quality import is_stale, normalise_bars, resample_bars

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = 3600


def bar(i: int, close: float = 100.0) -> Bar:
    return Bar(ts=T0 + timedelta(hours=i), open=100, high=110, low=90, close=close, volume=1)


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=60), min_size=0, max_size=80),
    seed=st.randoms(use_true_random=False),
)
def test_any_shuffled_duplicated_input_yields_ascending_unique_utc_bars(offsets, seed):
    bars = [bar(i, close=100 + k % 7) for k, i in enumerate(offsets)]
    seed.shuffle(bars)
    out, report = normalise_bars(bars, HOUR)
    stamps = [b.ts for b in out]
    assert all(a < b for a, b in itertools.pairwise(stamps))
    assert all(b.ts.utcoffset() == timedelta(0) for b in out)
    assert set(stamps) == {b.ts for b in bars}
    assert report.received == len(bars)
    assert report.returned == len(out)
    assert report.duplicates_dropped == len(bars) - len(set(offsets))
    inversions = sum(1 for a, b in itertools.pairwise(bars) if b.ts < a.ts)
    assert report.out_of_order == inversions
    span = (max(offsets) - min(offsets) + 1) if offsets else 0
    assert report.missing_bars == span - len(set(offsets))
    assert report.clean == (
        report.duplicates_dropped == report.out_of_order == 0 and report.missing_bars == 0
    )


def test_last_received_duplicate_wins():
    out, report = normalise_bars([bar(0, 101), bar(1), bar(0, 105)], HOUR)
    assert [b.close for b in out] == [105, 100]
    assert report.duplicates_dropped == 1
    assert report.out_of_order == 1
    assert "1 duplicate bar(s) dropped" in report.issues()


def test_gap_is_reported_with_its_bounds():
    _, report = normalise_bars([bar(0), bar(1), bar(5)], HOUR)
    assert len(report.gaps) == 1
    gap = report.gaps[0]
    assert (gap.after, gap.before, gap.missing_bars) == (bar(1).ts, bar(5).ts, 3)
    assert report.to_dict()["gaps"][0]["missing_bars"] == 3


def test_resample_keeps_only_complete_buckets():
    hourly = [bar(i, close=100 + i) for i in range(1, 10)]  # 01:00..09:00
    four = resample_bars(hourly, HOUR, 4 * HOUR)
    assert [b.ts.hour for b in four] == [4]  # 00-04 lacks 00:00, 08-12 lacks 10..11
    assert four[0].open == 100 and four[0].close == 107 and four[0].volume == 4


def test_staleness_counts_from_bar_close():
    last = bar(0)
    now = T0 + timedelta(hours=1, seconds=30)
    assert not is_stale([last], now, 60, interval_secs=HOUR)
    assert is_stale([last], now, 60)
    assert is_stale([], now, 1e9)
