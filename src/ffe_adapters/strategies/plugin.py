"""Registers ffe's built-in signal strategies exactly as a third-party plugin would."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import Strategy, hookimpl
from ffe_core.backtest.strategies import BUILTIN_STRATEGIES


@hookimpl
def ffe_strategies() -> Mapping[str, Strategy]:
    return dict(BUILTIN_STRATEGIES)
