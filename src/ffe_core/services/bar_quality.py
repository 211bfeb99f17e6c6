"""Bar hygiene: normalise what a source returned and say exactly what was wrong with it.

Sources are asked for ascending, unique UTC bars, but the service never trusts that: every answer
passes through :func:`normalise_bars`, which repairs what can be repaired (order, duplicates) and
reports everything it saw (including gaps it cannot repair) in a :class:`DataQualityReport`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.intervals import floor_time
from ffe_core.domain.market import Bar


@dataclass(frozen=True)
class Gap:
    """Missing bars between two bars that are present: ``after`` and ``before`` are their opens."""

    after: datetime
    before: datetime
    missing_bars: int


@dataclass(frozen=True)
class DataQualityReport:
    """What normalisation found in one answer; ``clean`` when nothing had to be reported."""

    source: str
    symbol: str
    interval: str
    received: int
    returned: int
    duplicates_dropped: int = 0
    out_of_order: int = 0
    gaps: tuple[Gap, ...] = field(default_factory=tuple)

    @property
    def missing_bars(self) -> int:
        return sum(g.missing_bars for g in self.gaps)

    @property
    def clean(self) -> bool:
        return not (self.duplicates_dropped or self.out_of_order or self.gaps)

    def issues(self) -> list[str]:
        """One human-readable line per kind of problem (empty when clean)."""
        out: list[str] = []
        if self.out_of_order:
            out.append(f"{self.out_of_order} bar(s) out of order (sorted)")
        if self.duplicates_dropped:
            out.append(f"{self.duplicates_dropped} duplicate bar(s) dropped")
        if self.gaps:
            out.append(f"{len(self.gaps)} gap(s), {self.missing_bars} bar(s) missing")
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["gaps"] = [
            {
                "after": g.after.isoformat(),
                "before": g.before.isoformat(),
                "missing_bars": g.missing_bars,
            }
            for g in self.gaps
        ]
        data["missing_bars"] = self.missing_bars
        data["clean"] = self.clean
        return data


def normalise_bars(
    bars: Sequence[Bar],
    interval_secs: int,
    *,
    source: str = "",
    symbol: str = "",
    interval: str = "",
) -> tuple[list[Bar], DataQualityReport]:
    """Bars sorted ascending with one bar per timestamp (the last one received wins), plus a report.

    ``out_of_order`` counts bars whose timestamp is earlier than the one received just before
    them; a gap is any step between consecutive kept bars longer than ``interval_secs``.
    """
    out_of_order = sum(1 for prev, cur in itertools.pairwise(bars) if cur.ts < prev.ts)
    latest: dict[datetime, Bar] = {}
    for bar in bars:
        latest[bar.ts] = bar
    kept = sorted(latest.values(), key=lambda b: b.ts)
    step = timedelta(seconds=interval_secs)
    gaps = tuple(
        Gap(after=prev.ts, before=cur.ts, missing_bars=int((cur.ts - prev.ts) / step) - 1)
        for prev, cur in itertools.pairwise(kept)
        if cur.ts - prev.ts > step and int((cur.ts - prev.ts) / step) > 1
    )
    report = DataQualityReport(
        source=source,
        symbol=symbol,
        interval=interval,
        received=len(bars),
        returned=len(kept),
        duplicates_dropped=len(bars) - len(kept),
        out_of_order=out_of_order,
        gaps=gaps,
    )
    return kept, report


def resample_bars(bars: Iterable[Bar], from_secs: int, to_secs: int) -> list[Bar]:
    """Aggregate ascending ``from_secs`` bars into ``to_secs`` bars aligned to the epoch grid.

    Only complete buckets are kept, so a partly formed bar never passes for a closed one.
    """
    if to_secs == from_secs:
        return list(bars)
    if to_secs < from_secs or to_secs % from_secs:
        raise ValidationFailed(f"cannot resample {from_secs}s bars into {to_secs}s bars")
    per_bucket = to_secs // from_secs
    buckets: dict[datetime, list[Bar]] = {}
    for bar in bars:
        buckets.setdefault(floor_time(bar.ts, to_secs), []).append(bar)
    out: list[Bar] = []
    for start, members in sorted(buckets.items()):
        if len(members) != per_bucket:
            continue
        out.append(
            Bar(
                ts=start,
                open=members[0].open,
                high=max(b.high for b in members),
                low=min(b.low for b in members),
                close=members[-1].close,
                volume=sum(b.volume for b in members),
            )
        )
    return out


def bar_age_seconds(bar: Bar, now: datetime, interval_secs: int = 0) -> float:
    """Seconds since ``bar`` closed (its open plus ``interval_secs``); negative if still open."""
    return (now - (bar.ts + timedelta(seconds=interval_secs))).total_seconds()


def is_stale(
    bars: Sequence[Bar], now: datetime, max_age_seconds: float, interval_secs: int = 0
) -> bool:
    """True when there is no bar or the last one closed more than ``max_age_seconds`` ago."""
    if not bars:
        return True
    return bar_age_seconds(bars[-1], now, interval_secs) > max_age_seconds
