"""Untyped model fields limited to what JSON carries, so that they survive a round trip.

A field typed ``Any`` accepts a tuple, a set, ``nan`` or ``inf``; JSON writes them as a list,
fails, or writes ``null``, so the model that was stored or served is not the one read back.
``JsonData`` accepts only JSON values (tuples become lists) with finite numbers; ``JsonReport``
is for computed results in which a non-finite number means something (a profit factor with no
losing trade is +inf): it is stored explicitly as None, as ``backtest.stats.json_ready`` does.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Annotated, Any

from pydantic import AfterValidator


def _json_value(value: Any, non_finite_as_none: bool, where: str) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        if math.isfinite(number):
            return number
        if non_finite_as_none:
            return None
        raise ValueError(f"{where or 'value'}: {number} is not a finite number")
    if isinstance(value, list | tuple):
        return [_json_value(v, non_finite_as_none, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where or 'value'}: key {key!r} is not a string")
            out[key] = _json_value(v, non_finite_as_none, f"{where}.{key}" if where else key)
        return out
    raise ValueError(f"{where or 'value'}: {type(value).__name__} is not a JSON value")


def json_data(value: Any) -> Any:
    """``value`` as JSON data (tuples as lists); a non-finite number or non-JSON type is an error."""
    return _json_value(value, False, "")


def json_report(value: Any) -> Any:
    """``value`` as JSON data with every non-finite number replaced by None."""
    return _json_value(value, True, "")


JsonData = Annotated[Any, AfterValidator(json_data)]
"""Any JSON value whose numbers are finite (request bodies, parameters)."""

JsonReport = Annotated[Any, AfterValidator(json_report)]
"""Any JSON value; non-finite numbers (meaningful in computed statistics) become None."""
