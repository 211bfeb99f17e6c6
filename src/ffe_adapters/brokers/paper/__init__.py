"""The paper broker: fills orders from market data with the shared fill model."""

from ffe_adapters.brokers.paper.execution import PaperBroker

__all__ = ["PaperBroker"]
