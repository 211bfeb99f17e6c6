"""Run as a separate process by the crash test: submit one order to the fake OANDA venue."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from oandapyV20.oandapyV20 import TRADING_ENVIRONMENTS

from ffe_adapters.brokers.oanda.config import OandaOptions
from ffe_adapters.brokers.oanda.execution import OandaBroker
from ffe_adapters.brokers.oanda.factories import make_client
from ffe_core.config import CoreView
from ffe_core.domain.orders import Order, Side


async def main(api: str, coid: str) -> None:
    TRADING_ENVIRONMENTS["ffe-crash"] = {"api": api, "stream": api}
    options = OandaOptions.model_validate(
        {
            "access_token": "test-token",
            "account_id": "101-004-1435156-001",
            "environment": "ffe-crash",
            "timeout_seconds": 30,
            "retries": 1,
            "retry_backoff_seconds": 0,
        }
    )
    broker = OandaBroker(make_client(options), options, CoreView())
    order = Order(client_order_id=coid, instrument="EUR-USD", side=Side.BUY, quantity=Decimal(100))
    placed = await broker.submit_order(order)
    print(f"RESULT {placed.client_order_id} {placed.status.value}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
