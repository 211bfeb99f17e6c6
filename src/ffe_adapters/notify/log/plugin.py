"""Registers the log notifier and the log approval channel (both named ``log``)."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.notify.log.notifier import LogApprovalChannel, LogNotifier


def build_notifier(context: AdapterContext) -> LogNotifier:
    return LogNotifier()


def build_approval_channel(context: AdapterContext) -> LogApprovalChannel:
    return LogApprovalChannel()


@hookimpl
def ffe_notifiers() -> Mapping[str, Factory]:
    return {"log": build_notifier}


@hookimpl
def ffe_approval_channels() -> Mapping[str, Factory]:
    return {"log": build_approval_channel}
