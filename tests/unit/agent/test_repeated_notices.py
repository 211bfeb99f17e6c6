"""A risk limit that refuses the agent every cycle is told once an hour, not once a cycle (the
first-hour log held 81 identical rejection warnings in 25 minutes); every other notice is sent
each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ffe_core.ports.notify import EventKind, Notification
from ffe_core.services.agent_reports import Notices, rejection_key

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.got: list[Notification] = []

    async def notify(self, event: Notification) -> None:
        self.got.append(event)


def reason(units: int, equity: str) -> str:
    return (
        f"rejected: max_position_fraction: {units} would make position 1.04x of equity "
        f"(limit 0.25x, equity {equity}); nothing fits"
    )


async def test_the_same_limit_refusing_every_cycle_is_told_once_an_hour() -> None:
    inbox, now = Inbox(), [T0]
    notices = Notices(inbox, now=lambda: now[0])

    async def reject(instrument: str, why: str) -> None:
        await notices.send(
            EventKind.RISK_REJECTION,
            f"Risk rejected SELL {instrument}",
            why,
            repeat=rejection_key(instrument, "SELL", why),
        )

    for cycle in range(5):  # the figures move, the limit is the same
        now[0] = T0 + timedelta(minutes=cycle)
        await reject("AAPL", reason(475 - cycle, f"99,92{cycle}.73"))
    assert [n.body for n in inbox.got] == [reason(475, "99,920.73")]

    await reject("ETH-USD", reason(9, "99,924.73"))  # another instrument: told
    await reject("AAPL", "rejected: daily_loss: 2.1% lost today (limit 2%)")  # another limit
    await notices.send(EventKind.KILL_SWITCH, "Kill switch tripped")  # never held back
    await notices.send(EventKind.KILL_SWITCH, "Kill switch tripped")
    assert len(inbox.got) == 5

    now[0] = T0 + timedelta(hours=1)
    await reject("AAPL", reason(470, "98,000.00"))
    assert inbox.got[-1].body.endswith("(4 more like it since 09:00 UTC)")
    now[0] += timedelta(minutes=1)
    await reject("AAPL", reason(470, "98,000.00"))
    assert len(inbox.got) == 6


def test_the_repeat_key_ignores_figures_not_words() -> None:
    a = rejection_key("AAPL", "SELL", reason(475, "99,923.73"))
    assert a == rejection_key("AAPL", "SELL", reason(12, "1,000,000"))
    assert a != rejection_key("AAPL", "BUY", reason(475, "99,923.73"))
    assert a != rejection_key("AAPL", "SELL", "rejected: max_gross_exposure: 3x (limit 2x)")
