"""Where the live gate's report is kept, and the start-up check of ``trading.mode: live``.

``ffe replay --walk-forward`` and a replay job with ``walk_forward`` store the report (a JSON
file at ``live_gate.report_path``). In live mode the agent starts only when it passes
(:func:`ffe_core.backtest.live_gate.failures`), or when ``live_gate.enabled`` is false, which is
logged as a warning: :class:`StoredReportGate` is the agent's gate, asked at every start
(``ffe agent run``, ``ffe serve --agent``, the API's start, the agent process, a standby), and
``ffe serve`` checks once more before it binds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ffe_core.config import Settings
from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.portfolio import TradingMode
from ffe_core.ports.live_gate import LiveGate, LiveGateRefused

if TYPE_CHECKING:
    from ffe_core.backtest.replay_stack import SleeveResult

log = logging.getLogger("ffe.live_gate")


def store_report(settings: Settings, report: dict[str, Any]) -> Path:
    path = Path(settings.live_gate.report_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(path)
    return path


MIN_DECIDED_BARS = 107
"""``ffe_core.backtest.live_gate.MIN_DECIDED_BARS``, here without importing the backtester
(a test keeps the two equal)."""


def check_gate_stack(settings: Settings, chosen: Settings, label: str) -> None:
    """A walk-forward report vouches for the configured stack: refuse to store one made with
    other providers or another aggregation (it would replace the configured stack's report
    with one the live gate can never accept)."""
    from ffe_core.backtest.live_gate import stack_fingerprint

    if stack_fingerprint(chosen) != stack_fingerprint(settings):
        raise ValidationFailed(
            f"{label}: the live gate's report is of the configured stack; leave the providers "
            "and the aggregation as configured"
        )


def store_gate(
    settings: Settings,
    results: Sequence[SleeveResult],
    *,
    contaminated: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Compute, store and judge the live gate's report of a replay (one instrument or several
    on one account): ``ffe replay --walk-forward`` and a replay job with ``walk_forward``."""
    from ffe_core.backtest.live_gate import failures, gate_report

    at = now or datetime.now(UTC)
    report = gate_report(results, settings, at, contaminated=contaminated)
    path = store_report(settings, report)
    reasons = failures(report, settings, at)
    return report | {"path": str(path), "passed": not reasons, "failures": reasons}


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
    from ffe_core.backtest.live_gate import failures  # the backtester, only when live

    reasons = failures(load_report(settings), settings, now or datetime.now(UTC))
    return "refused" if reasons else "passed"


def live_refusal(settings: Settings, now: datetime | None = None) -> str | None:
    """One line naming the failing criteria, or None when live may start (or is not asked)."""
    if settings.trading.mode is not TradingMode.LIVE:
        return None
    if not settings.live_gate.enabled:
        log.warning("live trading without the live gate (live_gate.enabled: false)")
        return None
    from ffe_core.backtest.live_gate import failures, summary  # the backtester, only when live

    reasons = failures(load_report(settings), settings, now or datetime.now(UTC))
    if reasons:
        return summary(reasons)
    log.info("live gate passed (report at %s)", settings.live_gate.report_path)
    return None


def check_live_start(settings: Settings, now: datetime | None = None) -> None:
    """Raise LiveGateRefused (one line naming the failing criteria) unless live may start: the
    CLI's early word, before anything is built; the agent asks again at every start."""
    why = live_refusal(settings, now)
    if why is not None:
        raise LiveGateRefused(why)


class StoredReportGate(LiveGate):
    """Implements ``ffe_core.ports.live_gate.LiveGate`` over the report stored at
    ``live_gate.report_path``, read again at every start (a report may age or be replaced)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def refusal(self) -> str | None:
        return live_refusal(self.settings)
