"""The cost the risk manager reserves when sizing is written once, on the trading settings, and
the container's risk manager (live and paper) reserves that same rate."""

from __future__ import annotations

from decimal import Decimal

from ffe_core.config import Settings
from ffe_entrypoints.container import build_container

COSTS = {"commission": "0.002", "slippage": "0.001", "spread": "0.004"}


def test_the_fee_rate_is_commission_slippage_and_half_the_spread() -> None:
    trading = Settings.model_validate({"trading": COSTS}).trading
    assert trading.fee_rate == Decimal("0.005")


def test_the_containers_risk_manager_reserves_the_settings_fee_rate() -> None:
    settings = Settings.model_validate({"trading": COSTS})
    assert build_container(settings).risk_manager().fee_rate == Decimal("0.005")
