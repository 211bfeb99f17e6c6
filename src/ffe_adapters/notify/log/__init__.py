"""The default notifier: the process log. Needs no configuration, so ffe always has one."""

from ffe_adapters.notify.log.notifier import LogApprovalChannel, LogNotifier

__all__ = ["LogApprovalChannel", "LogNotifier"]
