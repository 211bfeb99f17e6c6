"""Build the paper broker from an AdapterContext."""

from __future__ import annotations

from ffe_adapters.brokers.paper.config import PaperOptions
from ffe_adapters.brokers.paper.execution import PaperBroker
from ffe_adapters.hookspecs import AdapterContext
from ffe_core.domain.errors import ConfigError


def make_paper_broker(ctx: AdapterContext) -> PaperBroker:
    """A PaperBroker on the shared storage and market data; both are required."""
    if ctx.uow_factory is None:
        raise ConfigError("broker 'paper' needs storage (no unit of work factory was provided)")
    if ctx.market_data is None:
        raise ConfigError("broker 'paper' needs a market data source to fill orders from")
    return PaperBroker(
        settings=ctx.core,
        uow_factory=ctx.uow_factory,
        market_data=ctx.market_data,
        clock=ctx.clock,
        options=ctx.parse_options(PaperOptions),
    )
