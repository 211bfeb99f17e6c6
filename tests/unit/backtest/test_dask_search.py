"""The same parameter search on a Dask LocalCluster (separate worker processes) as locally."""

from __future__ import annotations

import numpy as np
import pytest

from ffe_core.backtest.data import make_bars
from ffe_core.backtest.search import grid, run_search
from ffe_core.backtest.strategies import sma_cross

pytest.importorskip("distributed", reason="the 'dask' extra is not installed")


def synthetic_bars(n: int = 3000):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * 1.002
    low = np.minimum(open_, close) * 0.998
    return make_bars(open_, high, low, close, np.full(n, 1000.0))


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_scores_as_threads() -> None:
    from ffe_adapters.compute.dask import dask_executor

    bars = synthetic_bars()
    cands = grid({"fast": [5, 10, 20], "slow": [30, 50]})
    local = run_search(bars, sma_cross, cands, objective="sharpe", workers=2)
    seen: list[int] = []
    with dask_executor("local", workers=2) as executor:
        remote = run_search(
            bars,
            sma_cross,
            cands,
            objective="sharpe",
            executor=executor,
            progress=lambda done, total: seen.append(done),
        )
    assert [e.params for e in remote] == [e.params for e in local]
    assert [e.score for e in remote] == [e.score for e in local]
    assert seen == list(range(1, len(cands) + 1))


def test_unreachable_scheduler_is_a_config_error() -> None:
    from ffe_adapters.compute.dask import dask_executor
    from ffe_core.domain.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot reach the scheduler"):  # noqa: SIM117
        with dask_executor("tcp://127.0.0.1:9"):
            pass
