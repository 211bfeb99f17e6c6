"""Where the live gate's report is kept, and the start-up check of ``trading.mode: live``.

``ffe replay --walk-forward`` stores the report (a JSON file at ``live_gate.report_path``);
``ffe serve`` and ``ffe agent run`` in live mode start only when it passes
(:func:`ffe_core.backtest.live_gate.failures`), or when ``live_gate.enabled`` is false, which is
logged as a warning.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ffe_core.backtest.live_gate import failures, summary
from ffe_core.config import Settings
from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.portfolio import TradingMode

log = logging.getLogger("ffe.live_gate")


def store_report(settings: Settings, report: dict[str, Any]) -> Path:
    path = Path(settings.live_gate.report_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(path)
    return path


def load_report(settings: Settings) -> dict[str, Any] | None:
    """The stored report, or None when there is none (or it cannot be read as one)."""
    path = Path(settings.live_gate.report_path)
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and "created_at" in report else None


def live_gate_state(settings: Settings, now: datetime | None = None) -> str:
    """``off`` (not live), ``disabled`` (live without the gate), ``passed`` or ``refused``."""
    if settings.trading.mode is not TradingMode.LIVE:
        return "off"
    if not settings.live_gate.enabled:
        return "disabled"
    reasons = failures(load_report(settings), settings, now or datetime.now(UTC))
    return "refused" if reasons else "passed"


def check_live_start(settings: Settings, now: datetime | None = None) -> None:
    """Raise ValidationFailed (one line naming the failing criteria) unless live may start."""
    if settings.trading.mode is not TradingMode.LIVE:
        return
    if not settings.live_gate.enabled:
        log.warning("live trading without the live gate (live_gate.enabled: false)")
        return
    reasons = failures(load_report(settings), settings, now or datetime.now(UTC))
    if reasons:
        raise ValidationFailed(summary(reasons))
    log.info("live gate passed (report at %s)", settings.live_gate.report_path)
