"""Order-level strategies for ``ffe backtest``, ``optimize`` and ``walk-forward``: one registered
by name (``ffe_order_strategies`` hook: the built-in ``sma_bracket``, plugins'), or a user's
``Strategy`` subclass / ``CompiledStrategy`` given as ``module:Name`` or ``path/file.py:Name``."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ffe_core.backtest.data import Bars
from ffe_core.backtest.orders import (
    BrokerConfig,
    CompiledStrategy,
    OrderRunResult,
    OrderStrategy,
    Strategy,
    run_order_strategy,
)
from ffe_core.backtest.simulator import FillConfig
from ffe_core.domain.errors import ValidationFailed


def _load(ref: str) -> Any:
    where, _, name = ref.rpartition(":")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise ValidationFailed(f"--strategy {ref}: no file {where}")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None:
                raise ValidationFailed(f"--strategy {ref}: cannot load {where}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except ImportError as exc:
        raise ValidationFailed(f"--strategy {ref}: {exc}") from None
    if name not in vars(module):
        raise ValidationFailed(f"--strategy {ref}: {where} has no {name!r}")
    return vars(module)[name]


def order_strategy(name: str, registered: Mapping[str, Any]) -> OrderStrategy | None:
    """The order-level strategy ``name`` names (``registered``: the plugin registry's, by name),
    or None when it names a target strategy."""
    found = registered.get(name) if ":" not in name else _load(name)
    if found is None:
        return None
    if isinstance(found, CompiledStrategy) or (
        isinstance(found, type) and issubclass(found, Strategy)
    ):
        return found
    raise ValidationFailed(
        f"--strategy {name}: must be a ffe_core.backtest.orders.Strategy subclass "
        "or a CompiledStrategy"
    )


def run_order_level(
    bars: Bars, strategy: OrderStrategy, fill: FillConfig, params: dict[str, Any]
) -> OrderRunResult:
    """One order-level run; bad parameters or orders become ValidationFailed (exit 2)."""
    check_fill(fill)
    try:
        return run_order_strategy(bars, strategy, BrokerConfig(fill), **params)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"strategy: {exc}") from None


def check_fill(fill: FillConfig) -> None:
    """Refuse fill options an order-level strategy sets itself, per order."""
    if fill.sl or fill.tp:
        raise ValidationFailed(
            "--sl/--tp apply to target strategies; an order-level strategy sets SL/TP per "
            "order (for sma_bracket: --param sl=0.02 --param tp=0.05)"
        )
