"""Typed domain errors; each entry point maps them to HTTP statuses / exit codes in one place."""

from __future__ import annotations


class FfeError(Exception):
    """Base of every error ffe raises on purpose."""


class ConfigError(FfeError):
    """Configuration is invalid; the message names the key and the reason."""


class NotFoundError(FfeError):
    """A requested entity (instrument, decision, order, approval) does not exist."""


class ConflictError(FfeError):
    """The request conflicts with current state (agent already running, approval resolved)."""


class ValidationFailed(FfeError):
    """Input was understood but is not acceptable."""


class InvalidTransition(FfeError):
    """An order or approval was asked to move to a state it cannot reach from its current one."""


class PluginError(FfeError):
    """A plugin failed to load or registered something invalid; names the plugin."""

    def __init__(self, plugin: str, reason: str) -> None:
        super().__init__(f"plugin {plugin!r}: {reason}")
        self.plugin = plugin
        self.reason = reason


class ProviderError(FfeError):
    """A decision provider failed (timeout, transport, malformed output)."""


class MarketDataError(FfeError):
    """Market data could not be obtained or is unusable (stale, gaps, malformed)."""


class RateLimited(FfeError):
    """A remote service asked us to slow down; ``retry_after`` in seconds when it said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BrokerError(FfeError):
    """Base of broker failures."""


class InsufficientFunds(BrokerError):
    """The account cannot pay for the order."""


class InvalidOrder(BrokerError):
    """Size, price or precision is not acceptable to the venue."""


class MarketClosed(BrokerError):
    """The venue does not trade this instrument now."""


class AuthenticationFailed(BrokerError):
    """Credentials were refused by a remote service."""


class BrokerUnavailable(BrokerError):
    """The venue is down, timed out or answered 5xx; the order state is unknown until asked."""


class RiskRejected(FfeError):
    """The risk manager refused a decision; ``reason`` says which limit."""
