"""What a backtest job may ask for, checked when it is submitted, before it is queued.

Every parameter is held to its strategy's type (read from the default in the strategy's
signature) and sane range: integers are whole numbers in range (never booleans), floats finite
and in range, booleans only ``true``/``false``; a grid is a non-empty list of one kind of value.
The work a job asks for (bars x parameter combinations) is bounded by ``backtests.max_work``.
A job that passes never fails on a value its request carried.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ffe_core.backtest.search import grid
from ffe_core.backtest.strategies import StrategySpec
from ffe_core.domain.errors import ValidationFailed
from ffe_entrypoints.services.backtest_models import MAX_BARS

MAX_GRID_POINTS = 5000  # a search larger than this is refused rather than left to run for hours
MAX_STRING = 64
PERIOD = (1, MAX_BARS)
BUILTIN_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "sma_cross": {"fast": PERIOD, "slow": PERIOD},
    "ema_cross": {"fast": PERIOD, "slow": PERIOD},
    "rsi_reversion": {"period": PERIOD, "lower": (0.0, 100.0), "upper": (0.0, 100.0)},
    "bollinger": {"period": PERIOD, "k": (0.0, 10.0)},
    "donchian_breakout": {"period": PERIOD},
    "macd": {"fast": PERIOD, "slow": PERIOD, "signal": PERIOD},
    "sma_bracket": {
        "fast": PERIOD,
        "slow": PERIOD,
        "size": (1e-9, 1e9),
        "sl": (0.0, 0.99),
        "tp": (0.0, 100.0),
        "trail": (0.0, 0.99),
    },
}
"""Ranges of the built-in strategies' numeric parameters (all their integers are periods)."""
PLUGIN_INT_RANGE = (-1_000_000_000, 1_000_000_000)
PLUGIN_FLOAT_RANGE = (-1e12, 1e12)
"""Ranges for strategies that declare none: wide, but far from overflow and precision loss."""


@dataclass(frozen=True)
class ParamRule:
    """The kind (``int``, ``float``, ``bool``, ``str`` or None: any scalar) and range of one
    parameter."""

    kind: type | None
    low: float | None = None
    high: float | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        if self.kind is bool:
            return None if isinstance(value, bool) else f"{value!r} is not true or false"
        if self.kind is str:
            if not isinstance(value, str):
                return f"{value!r} is not a string"
            return None if len(value) <= MAX_STRING else f"longer than {MAX_STRING} characters"
        if self.kind is None:  # no default to learn the kind from: any scalar, numbers checked
            if isinstance(value, bool):
                return None
            if isinstance(value, str):
                return ParamRule(str).problem(value)
            return ParamRule(float, *PLUGIN_FLOAT_RANGE).problem(value)
        if isinstance(value, bool):
            return f"{_json(value)} is a boolean, not a number"
        if self.kind is int and not isinstance(value, int):
            return f"{_json(value)} is not an integer"
        if not isinstance(value, int | float):
            return f"{_json(value)} is not a number"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{value} is not a finite number"
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            return f"{_json(value)} is outside {_num(self.low)}..{_num(self.high)}"
        return None


def _json(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else str(value)


def strategy_params(strategy: Callable[..., Any]) -> dict[str, Any]:
    """A strategy's keyword parameters and their defaults (``inspect.Parameter.empty``: none)."""
    return {p.name: p.default for p in list(inspect.signature(strategy).parameters.values())[5:]}


def param_rules(name: str, strategy: Callable[..., Any]) -> dict[str, ParamRule]:
    """One rule per parameter of ``strategy``, its kind taken from its default."""
    return rules_from_defaults(name, strategy_params(strategy))


def rules_from_defaults(name: str, defaults: Mapping[str, Any]) -> dict[str, ParamRule]:
    """One rule per parameter, its kind taken from its default (order-level strategies declare
    their defaults as a mapping)."""
    ranges = BUILTIN_RANGES.get(name, {})
    rules = {}
    for param, default in defaults.items():
        kind = type(default) if isinstance(default, bool | int | float | str) else None
        if kind is int or kind is float:
            low, high = ranges.get(param, PLUGIN_INT_RANGE if kind is int else PLUGIN_FLOAT_RANGE)
            rules[param] = ParamRule(kind, low, high)
        else:
            rules[param] = ParamRule(kind)
    return rules


def check_params(rules: Mapping[str, ParamRule], params: Mapping[str, Any]) -> None:
    """Each fixed parameter against its rule; the error names the first bad one."""
    for name, value in params.items():
        problem = rules[name].problem(value)
        if problem:
            raise ValidationFailed(f"params.{name}: {problem}")


def check_grid(rules: Mapping[str, ParamRule], space: Mapping[str, Sequence[Any]]) -> None:
    """Each grid is non-empty, of one kind of value, and every value passes its rule."""
    for name, values in space.items():
        if not values:
            raise ValidationFailed(f"grid.{name}: give at least one value")
        if len(values) > MAX_GRID_POINTS:
            raise ValidationFailed(f"grid.{name}: at most {MAX_GRID_POINTS} values")
        kinds = {_kind(v) for v in values}
        if len(kinds) > 1:
            raise ValidationFailed(
                f"grid.{name}: mixes {' and '.join(sorted(kinds))}; give one kind of value"
            )
        for i, value in enumerate(values):
            problem = rules[name].problem(value)
            if problem:
                raise ValidationFailed(f"grid.{name}[{i}]: {problem}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "booleans"
    return "numbers" if isinstance(value, int | float) else "strings"


def candidates(
    spec: StrategySpec, requested: Mapping[str, Sequence[Any]]
) -> tuple[dict[str, Sequence[Any]], list[dict[str, Any]]]:
    """The search space (the strategy's grid, overridden per parameter by the request's) and
    the combinations in it that satisfy the strategy's constraint."""
    space: dict[str, Sequence[Any]] = {**spec.grid, **requested}
    points = math.prod(len(v) for v in space.values())
    if points > MAX_GRID_POINTS:
        raise ValidationFailed(f"grid: {points} parameter combinations; at most {MAX_GRID_POINTS}")
    found = grid(space, spec.constraint)
    if not found:
        raise ValidationFailed("grid: no parameter combination satisfies the constraint")
    return space, found


def check_work(bars: int, combinations: int, max_work: int) -> None:
    """Refuse a job asking for more than ``backtests.max_work`` bars x combinations."""
    work = bars * combinations
    if work > max_work:
        raise ValidationFailed(
            f"bars x combinations: {bars} x {combinations} = {work} exceeds "
            f"backtests.max_work ({max_work}); use fewer bars or a smaller grid"
        )


def importable_ref(name: str, strategy: Callable[..., Any]) -> str:
    """``module:qualname`` of ``strategy``, which a worker process imports to run it.

    A strategy that is not a module-level function (a lambda, a closure) cannot run in
    another process and is refused.
    """
    module, qualname = getattr(strategy, "__module__", None), getattr(strategy, "__qualname__", "")
    target: Any = importlib.import_module(module) if module else None
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if target is not strategy:
        raise ValidationFailed(
            f"strategy: {name!r} is not a module-level function, so it cannot run in a "
            "backtest worker process"
        )
    return f"{module}:{qualname}"
