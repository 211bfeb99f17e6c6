"""What every REST source's ``get_bars`` answers from a provider's bars (``last_closed``), and
the api-key header they send (``key_header``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from ffe_adapters.market_data.http import HttpSourceOptions, key_header, last_closed
from ffe_core.domain.market import Bar

HOUR = timedelta(hours=1)
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def hourly(n: int) -> list[Bar]:
    return [
        Bar(ts=T0 + i * HOUR, open=1.0, high=2.0, low=0.5, close=1.5, volume=1.0) for i in range(n)
    ]


def test_last_closed_drops_the_forming_bar_bars_after_end_and_keeps_the_last_limit() -> None:
    bars = hourly(6)  # 09:00 .. 14:00
    now = T0 + 5 * HOUR + timedelta(minutes=30)  # 14:00 is still forming
    assert [b.ts for b in last_closed(bars, now, 3600, limit=10, end=None)] == [
        b.ts for b in bars[:5]
    ]
    assert last_closed(bars, now, 3600, limit=2, end=None) == bars[3:5]
    assert last_closed(bars, now, 3600, limit=2, end=T0 + 2 * HOUR) == bars[1:3]


def test_key_header_is_sent_only_with_a_key() -> None:
    keyed = HttpSourceOptions(base_url="https://example.test", api_key=SecretStr("k"))
    assert key_header(keyed, "Authorization", "Bearer ") == {"Authorization": "Bearer k"}
    assert key_header(keyed, "x-api-key") == {"x-api-key": "k"}
    assert key_header(HttpSourceOptions(base_url="https://example.test"), "Authorization") == {}
