"""The gate before live trading: its state, the stored walk-forward report and what fails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from pydantic import BaseModel, ConfigDict

from ffe_core.config import Settings
from ffe_core.domain.json_values import JsonReport
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.services.live_gate import live_gate_state, load_report


class LiveGateView(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    state: Literal["off", "disabled", "passed", "refused"]
    """off: paper trading; disabled: live without the gate (live_gate.enabled false)."""
    enabled: bool
    max_age_days: float
    report: dict[str, JsonReport] | None
    failures: list[str]
    """What the stored report fails (empty when it passes)."""


class LiveGateController(Controller):
    path = "/api/v1"
    tags = ["backtests"]

    @get(
        "/live-gate",
        summary="The live gate: state, stored report, failing criteria",
        responses=error_responses(),
    )
    async def live_gate(self, settings: NamedDependency[Settings]) -> LiveGateView:
        from ffe_core.backtest.live_gate import failures  # the replay stack: not to serve

        now = datetime.now(UTC)
        report = load_report(settings)
        return LiveGateView(
            state=live_gate_state(settings, now),
            enabled=settings.live_gate.enabled,
            max_age_days=settings.live_gate.max_age_days,
            report=report,
            failures=failures(report, settings, now),
        )
