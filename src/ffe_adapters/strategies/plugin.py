"""Registers ffe's built-in signal and order-level strategies exactly as a third-party plugin
would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ffe_adapters.hookspecs import Strategy, hookimpl
from ffe_core.backtest.strategies import BUILTIN_STRATEGIES


@hookimpl
def ffe_strategies() -> Mapping[str, Strategy]:
    return dict(BUILTIN_STRATEGIES)


@hookimpl
def ffe_order_strategies() -> Mapping[str, Any]:
    from ffe_core.backtest.order_strategies import ORDER_STRATEGIES

    return dict(ORDER_STRATEGIES)
