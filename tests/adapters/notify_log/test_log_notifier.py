"""The default log notifier and log approval channel."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.notify.log.notifier import LOGGER_NAME
from ffe_adapters.registry import load_registry
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.ports.notify import ApprovalChannel, EventKind, Notification, Notifier

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _build(kind: str) -> object:
    registry = load_registry(entry_points=False)
    return registry.factory(kind, "log")(AdapterContext(name="log"))


async def test_log_notifier_logs_title_body_and_fields(caplog: pytest.LogCaptureFixture) -> None:
    notifier = _build("notifiers")
    assert isinstance(notifier, Notifier)
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)

    await notifier.notify(
        Notification(
            kind=EventKind.FILL, title="Bought BTC-USD", body="paper", fields={"size": "1"}
        )
    )
    await notifier.notify(Notification(kind=EventKind.KILL_SWITCH, title="drawdown"))

    first, second = caplog.records
    assert first.getMessage() == "[fill] Bought BTC-USD — paper (size=1)"
    assert first.levelno == logging.INFO
    assert second.levelno == logging.CRITICAL


async def test_log_approval_channel_logs_and_returns_the_approval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = _build("approval_channels")
    assert isinstance(channel, ApprovalChannel)
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    approval = Approval(
        id="a1",
        decision_id="d1",
        instrument="BTC-USD",
        created_at=T0,
        expires_at=T0 + timedelta(minutes=5),
    )

    assert await channel.request_approval(approval) == approval
    await channel.show_resolution(approval.resolve(ApprovalStatus.APPROVED, "api:admin", T0))

    assert "approval a1 pending for BTC-USD" in caplog.records[0].getMessage()
    assert caplog.records[1].getMessage() == "approval a1 is approved by api:admin"
