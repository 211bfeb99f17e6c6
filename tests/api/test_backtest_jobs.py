"""Backtest jobs run in a worker process: checked at submission, queued within a bound,
cancellable, and never in the way of the API (``GET /api/bot/status`` stays fast)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.backtest.data import make_bars
from ffe_entrypoints.assembly import Assembly, shutdown
from ffe_entrypoints.container import build_container
from ffe_entrypoints.services.backtest_worker import _compute, run_job
from tests.api.conftest import api_settings, serving

Client = AsyncTestClient[Litestar]
pytestmark = pytest.mark.asyncio(loop_scope="module")

MAX_QUEUED = 2
MAX_WORK = 20_000_000
# 5000 bars x 4000 combinations walk-forward: about 20 s of one core even on an idle machine
LONG = {
    "kind": "walk_forward",
    "bars": 5000,
    "grid": {"fast": list(range(2, 42)), "slow": list(range(60, 160))},
}
SMALL = {"kind": "backtest", "bars": 300}
FINISHED = {"done", "failed", "cancelled"}
RESULT_BOUND = 120.0  # seconds; the first job also starts the worker process

ASSEMBLY = Assembly(build_container, shutdown)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Client, Any]]:
    """One app (and one worker process) for the module; every test leaves the worker idle."""
    settings = api_settings(
        tmp_path_factory.mktemp("backtest_jobs"),
        backtests={"workers": 1, "max_queued": MAX_QUEUED, "max_work": MAX_WORK},
        # the module's tests poll jobs for as long as a loaded machine needs: the default
        # 600 requests a minute answered 429 to the polling (rate limits are tested elsewhere)
        api={"rate_limit_per_minute": 1_000_000},
    )
    async with serving(settings) as (client, container):
        yield client, container
        await container.backtest_service().close()


@pytest.fixture
def client(api: tuple[Client, Any]) -> Client:
    return api[0]


async def submit(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/backtests", json=body)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


async def wait_for(
    client: Client, job_id: str, ready: Any, bound: float = RESULT_BOUND
) -> dict[str, Any]:
    """Poll the job until ``ready(job)`` or fail after ``bound`` seconds."""
    deadline = time.monotonic() + bound
    while True:
        job: dict[str, Any] = (await client.get(f"/api/v1/backtests/{job_id}")).json()
        if ready(job):
            return job
        assert time.monotonic() < deadline, f"job not ready in {bound} s: {job}"
        await asyncio.sleep(0.05)


async def settle(client: Client) -> None:
    """Cancel whatever is left and wait until a fresh job has run: the worker is idle."""
    for job in (await client.get("/api/v1/backtests")).json()["items"]:
        if job["status"] not in FINISHED:
            await client.delete(f"/api/v1/backtests/{job['id']}")
    probe = await submit(client, SMALL)
    done = await wait_for(client, probe["id"], lambda j: j["status"] in FINISHED)
    assert done["status"] == "done", done


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"params": {"fast": -5}}, "params.fast"),
        ({"params": {"fast": 0}}, "params.fast"),
        ({"params": {"fast": "ten"}}, "params.fast"),
        ({"params": {"fast": 2**63}}, "params.fast"),
        ({"params": {"fast": 1e308}}, "params.fast"),
        ({"params": {"fast": True}}, "params.fast"),
        ({"params": {"fast": 10.5}}, "params.fast"),
        ({"params": {"short": 1}}, "params.short"),
        ({"strategy": "rsi_reversion", "params": {"lower": 1e308}}, "params.lower"),
        ({"strategy": "bollinger", "params": {"k": -1}}, "params.k"),
        ({"kind": "optimize", "grid": {"fast": [5, "x", True]}}, "grid.fast"),
        ({"kind": "optimize", "grid": {"fast": []}}, "grid.fast"),
        ({"kind": "optimize", "grid": {"fast": [5, 7.5]}}, "grid.fast[1]"),
        ({"kind": "optimize", "grid": {"slow": [50, -3]}}, "grid.slow[1]"),
        ({"kind": "optimize", "grid": {"slow": [True, False]}}, "grid.slow[0]"),
        ({"strategy": "sma_bracket", "params": {"sl": "x"}}, "params.sl"),
        ({"strategy": "sma_bracket", "params": {"sl": 2.0}}, "params.sl"),
        ({"strategy": "sma_bracket", "params": {"nope": 1}}, "takes no nope"),
        ({"strategy": "sma_bracket", "kind": "optimize", "grid": {"sl": [0.1, 2.0]}}, "grid.sl[1]"),
        ({"strategy": "sma_bracket", "instruments": ["BTC-USD", "ETH-USD"]}, "order-level"),
        ({"strategy": "example_breakout", "params": {"period": 0.5}}, "params.period"),
        ({"strategy": "example_breakout", "kind": "optimize", "grid": {"hold": []}}, "grid.hold"),
        ({"strategy": "os:system"}, "unknown 'os:system'"),
        ({"risk_stops": True}, "risk_stops"),
        ({"instruments": ["BTC-USD"]}, "instruments"),
        ({"instruments": ["BTC-USD", "BTC-USD"]}, "instruments"),
        (
            {"kind": "optimize", "instruments": ["BTC-USD", "ETH-USD"], "grid": {"fast": [5]}},
            "instruments",
        ),
        (
            {
                "kind": "optimize",
                "bars": 5000,
                "grid": {"fast": list(range(2, 52)), "slow": list(range(60, 160))},
            },
            "backtests.max_work",
        ),
    ],
)
async def test_bad_parameters_are_400_naming_each(
    client: Client, body: dict[str, Any], named: str
) -> None:
    before = len((await client.get("/api/v1/backtests")).json()["items"])
    response = await client.post("/api/v1/backtests", json=body)
    assert response.status_code == 400, response.text
    assert named in response.json()["detail"], response.text
    assert len((await client.get("/api/v1/backtests")).json()["items"]) == before


async def test_a_job_result_arrives(client: Client) -> None:
    body = {"kind": "optimize", "bars": 500, "grid": {"fast": [5, 10], "slow": [20, 30]}}
    job = await submit(client, body)
    assert job["status"] in {"queued", "running"}
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    assert job["progress"] == 1.0
    result = job["result"]
    assert set(result) >= {"stats", "equity", "drawdown", "trades", "heatmap", "best_params"}
    assert result["heatmap"]["x"] == [5, 10] and result["heatmap"]["y"] == [20, 30]
    assert result["heatmap"]["metric"] == "Sharpe Ratio"  # the dashboard names what it colours


async def test_a_portfolio_job_runs_its_instruments_on_one_account(client: Client) -> None:
    body = {"kind": "backtest", "bars": 400, "instruments": ["BTC-USD", "ETH-USD", "AAPL"]}
    body["params"] = {"fast": 3, "slow": 9}
    job = await submit(client, body)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert set(result["instruments"]) == {"BTC-USD", "ETH-USD", "AAPL"}
    per = sum(s["# Trades"] for s in result["instruments"].values())
    assert result["stats"]["# Trades"] == per > 0
    assert result["equity"] and "kill_switch_bar" in result


async def test_an_order_level_job_runs_the_compiled_strategy(client: Client) -> None:
    body = {"kind": "backtest", "bars": 600, "strategy": "sma_bracket"}
    body["params"] = {"fast": 3, "slow": 9, "sl": 0.02, "tp": 0.04, "trail": 0.01}
    job = await submit(client, body)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert result["stats"]["# Trades"] == len(result["trades"]) > 0
    assert result["equity"]


async def test_an_unknown_strategy_is_400_listing_the_registered_ones(client: Client) -> None:
    response = await client.post("/api/v1/backtests", json={"strategy": "nope"})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "unknown 'nope'" in detail
    for name in ("sma_cross", "sma_bracket", "example_breakout"):
        assert name in detail
    listed = (await client.get("/api/v1/strategies")).json()["items"]
    levels = {s["name"]: s["level"] for s in listed}
    assert levels["example_breakout"] == levels["sma_bracket"] == "order"
    assert levels["sma_cross"] == "target"
    breakout = next(s for s in listed if s["name"] == "example_breakout")
    assert breakout["params"] == {"period": 20, "reward": 2.0, "hold": 30}


@pytest.mark.parametrize("kind", ["optimize", "walk_forward"])
async def test_order_level_searches_run_as_jobs(client: Client, kind: str) -> None:
    body = {"kind": kind, "bars": 900, "strategy": "sma_bracket"}
    body["grid"] = {"fast": [3, 5], "slow": [12, 20], "tp": [0.0, 0.05]}
    job = await submit(client, body)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert result["equity"] and result["stats"]
    if kind == "optimize":
        assert set(result["best_params"]) == {"fast", "slow", "sl", "tp"}  # sl: its grid
        assert result["heatmap"]["x"] == [3, 5]
        assert result["stats"]["# Trades"] == len(result["trades"]) > 0
    else:
        assert result["windows"] and all(w["params"]["fast"] < 12 for w in result["windows"])


async def test_a_plugins_order_strategy_runs_by_its_registered_name(client: Client) -> None:
    body = {"kind": "backtest", "bars": 1000, "strategy": "example_breakout"}
    body["params"] = {"period": 10, "hold": 15}
    job = await submit(client, body)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    assert job["result"]["stats"]["# Trades"] == len(job["result"]["trades"]) > 0


async def test_a_portfolio_job_with_risk_stops_counts_its_exits(client: Client) -> None:
    body = {"kind": "backtest", "bars": 600, "instruments": ["BTC-USD", "ETH-USD"]}
    body.update(params={"fast": 3, "slow": 9}, risk_stops=True)
    job = await submit(client, body)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    result = job["result"]
    exits = result["exits"]
    assert set(exits) == {"BTC-USD", "ETH-USD"}
    for symbol, counts in exits.items():
        assert sum(counts.values()) == result["instruments"][symbol]["# Trades"]
    assert any("stop_loss" in c or "take_profit" in c for c in exits.values())


async def test_a_portfolio_of_an_unknown_instrument_is_404(client: Client) -> None:
    response = await client.post("/api/v1/backtests", json={"instruments": ["BTC-USD", "NOPE"]})
    assert response.status_code == 404, response.text
    assert "NOPE" in response.json()["detail"]


async def test_a_full_queue_is_429_naming_the_limit(client: Client) -> None:
    running = await submit(client, LONG)
    queued = [await submit(client, SMALL) for _ in range(MAX_QUEUED)]
    refused = await client.post("/api/v1/backtests", json=SMALL)
    assert refused.status_code == 429, refused.text
    assert "backtests.max_queued" in refused.json()["detail"]
    assert [j["status"] for j in queued] == ["queued"] * MAX_QUEUED
    # a cancelled job frees its place in the queue
    assert (await client.delete(f"/api/v1/backtests/{queued[0]['id']}")).status_code == 200
    await submit(client, SMALL)
    assert (await client.post("/api/v1/backtests", json=SMALL)).status_code == 429
    assert (await client.delete(f"/api/v1/backtests/{running['id']}")).status_code == 200
    await settle(client)


async def test_a_cancelled_queued_job_never_starts(client: Client) -> None:
    running = await submit(client, LONG)
    queued = await submit(client, SMALL)
    cancelled = await client.delete(f"/api/v1/backtests/{queued['id']}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await client.delete(f"/api/v1/backtests/{queued['id']}")
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]
    await client.delete(f"/api/v1/backtests/{running['id']}")
    await settle(client)  # the worker has run a later job: the cancelled one was skipped
    job = (await client.get(f"/api/v1/backtests/{queued['id']}")).json()
    assert (job["status"], job["progress"], job["result"]) == ("cancelled", 0.0, None)


async def test_a_cancelled_running_job_stops_its_worker(client: Client) -> None:
    long = await submit(client, LONG)
    await wait_for(client, long["id"], lambda j: j["status"] == "running" and j["progress"] > 0)
    response = await client.delete(f"/api/v1/backtests/{long['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    cancelled_at = time.monotonic()
    # one worker: the next job can only run once the cancelled one has stopped, which is long
    # before the ~20 s of work it had left
    follow_up = await submit(client, SMALL)
    done = await wait_for(client, follow_up["id"], lambda j: j["status"] in FINISHED, bound=15)
    assert done["status"] == "done", done
    assert time.monotonic() - cancelled_at < 15
    stopped = (await client.get(f"/api/v1/backtests/{long['id']}")).json()
    assert stopped["status"] == "cancelled" and stopped["result"] is None
    assert 0 < stopped["progress"] < 1


async def test_cancel_of_unknown_or_finished_jobs(client: Client) -> None:
    assert (await client.delete("/api/v1/backtests/no-such-job")).status_code == 404
    job = await submit(client, SMALL)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done"
    finished = await client.delete(f"/api/v1/backtests/{job['id']}")
    assert finished.status_code == 409 and "done" in finished.json()["detail"]


async def test_bot_status_answers_fast_while_jobs_run(client: Client) -> None:
    long = await submit(client, LONG)
    for _ in range(MAX_QUEUED):
        await submit(client, LONG)
    await wait_for(client, long["id"], lambda j: j["status"] == "running" and j["progress"] > 0)
    slowest = 0.0
    for _ in range(20):
        started = time.perf_counter()
        response = await client.get("/api/bot/status")
        slowest = max(slowest, time.perf_counter() - started)
        assert response.status_code == 200
        await asyncio.sleep(0.05)
    submitted = time.perf_counter()
    assert (await client.post("/api/v1/backtests", json=LONG)).status_code == 429
    assert time.perf_counter() - submitted < 1.0
    assert slowest < 1.0, f"GET /api/bot/status took {slowest:.3f} s while jobs ran"
    await settle(client)


async def test_the_job_function_takes_and_returns_plain_data() -> None:
    """``run_job`` is what a worker process imports; a raised cancel flag stops it at once."""
    from ffe_core.config import Settings
    from ffe_entrypoints.services import backtest_worker

    spec = {**SMALL, "strategy": "sma_cross", "strategy_ref": "ffe_core.backtest.strategies:x"}
    assert run_job(spec, 0)["status"] == "failed"  # not initialised: a plain answer, no raise
    backtest_worker.init_worker(Settings().model_dump(), [0.0], [1], 0, ASSEMBLY)
    worker = backtest_worker._worker
    try:
        assert run_job(spec, 0) == {"status": "cancelled"}
    finally:
        backtest_worker._worker = None
        if worker is not None:
            worker.loop.close()


@pytest.mark.parametrize(("finalize", "trades"), [(True, 1), (False, 0)])
async def test_a_backtest_job_passes_finalize_to_the_fill_model(
    finalize: bool, trades: int
) -> None:
    n = 50
    close = np.linspace(100.0, 150.0, n)
    stamps = np.arange(n).astype("datetime64[D]")
    bars = make_bars(close, close + 1, close - 1, close, np.ones(n), stamps)

    def long_from_bar_1(o: Any, h: Any, lo: Any, c: Any, v: Any) -> Any:
        return np.r_[0, np.ones(n - 1)].astype(np.int8)

    spec = {"kind": "backtest", "strategy": "long", "params": {}, "cash": 1e4, "commission": 0.0}
    out = _compute({**spec, "finalize": finalize}, bars, long_from_bar_1, None, 0.0)  # type: ignore[arg-type]
    assert len(out["trades"]) == trades
    assert out["stats"]["Equity Final [$]"] > 1e4
