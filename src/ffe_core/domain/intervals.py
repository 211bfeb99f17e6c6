"""Bar intervals (``1m``, ``1h``, ``1d`` ...) as seconds, and time-grid arithmetic on them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ffe_core.domain.errors import ValidationFailed

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def interval_seconds(interval: str) -> int:
    """Seconds in ``interval`` (``"15m"`` -> 900); anything else is a ValidationFailed."""
    match = _PATTERN.match(interval.lower())
    if match is None or int(match.group(1)) <= 0:
        raise ValidationFailed(f"interval {interval!r}: expected e.g. 1m, 5m, 1h, 4h, 1d, 1w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def interval_delta(interval: str) -> timedelta:
    return timedelta(seconds=interval_seconds(interval))


def floor_time(ts: datetime, seconds: int) -> datetime:
    """Start of the ``seconds``-long grid cell (aligned to the Unix epoch) containing ``ts``."""
    elapsed = int((ts.astimezone(UTC) - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def last_closed_open(now: datetime, seconds: int) -> datetime:
    """Open time of the most recent interval that has fully closed before ``now``."""
    return floor_time(now, seconds) - timedelta(seconds=seconds)


_BARS = re.compile(r"^\s*(\d+)\s*bars?\s*$")


def horizon_bars(horizon: str) -> int | None:
    """The bar count of a horizon written in bars (``"1bar"``, ``"24bars"``); None for a clock
    horizon (``"4h"``)."""
    match = _BARS.match(horizon.lower())
    return int(match.group(1)) if match is not None else None


def horizon_seconds(horizon: str, bar_seconds: float) -> float:
    """Clock seconds of an outcome horizon: a count of bars of ``bar_seconds`` each, or a fixed
    interval (``"4h"``); anything else (or 0 bars) is a ValidationFailed."""
    bars = horizon_bars(horizon)
    if bars is None:
        try:
            return float(interval_seconds(horizon))
        except ValidationFailed:
            raise ValidationFailed(
                f"horizon {horizon!r}: expected bars of the configured interval (1bar, 4bars, "
                "24bars) or a clock interval (1h, 4h, 1d)"
            ) from None
    if bars <= 0:
        raise ValidationFailed(f"horizon {horizon!r}: at least 1 bar")
    return bars * bar_seconds
