"""Registers the offline quant providers."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.quant.config import BreakoutOptions, MeanReversionOptions, TrendOptions
from ffe_adapters.quant.providers import BreakoutProvider, MeanReversionProvider, TrendProvider


def build_trend(ctx: AdapterContext) -> TrendProvider:
    return TrendProvider(ctx.parse_options(TrendOptions))


def build_mean_reversion(ctx: AdapterContext) -> MeanReversionProvider:
    return MeanReversionProvider(ctx.parse_options(MeanReversionOptions))


def build_breakout(ctx: AdapterContext) -> BreakoutProvider:
    return BreakoutProvider(ctx.parse_options(BreakoutOptions))


@hookimpl
def ffe_decision_providers() -> Mapping[str, Factory]:
    return {
        "trend": build_trend,
        "mean_reversion": build_mean_reversion,
        "breakout": build_breakout,
    }
