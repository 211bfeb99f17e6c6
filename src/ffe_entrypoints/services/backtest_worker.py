"""The worker-process side of backtest jobs: load the bars, run the job, return plain data.

:func:`init_worker` runs once per worker process (``ProcessPoolExecutor`` initializer) and
:func:`run_job` once per job; both take and return plain data only (dicts, numbers, strings and
the two shared arrays the parent hands every worker). The parent writes ``cancel[slot]`` to stop
a job and reads ``progress[slot]`` to report it; the job looks at the flag before every
evaluation of its strategy, so a cancelled job stops within one parameter combination.
A worker is single-threaded and runs at a lower CPU priority than the trading process.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import sys
from collections.abc import Callable, Mapping
from multiprocessing.util import Finalize
from typing import Any

import numpy as np

from ffe_core.backtest.data import Bars, bars_of
from ffe_core.backtest.orders import (
    BrokerConfig,
    OrderRunResult,
    OrderStrategy,
    order_runner,
    run_order_strategy,
)
from ffe_core.backtest.runner import Runner, runner_of
from ffe_core.backtest.search import best, grid, run_search
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate
from ffe_core.backtest.sizing import unaffordable, unit_step_for
from ffe_core.backtest.stats import Calendar, compute_stats, json_ready
from ffe_core.backtest.strategies import spec_for
from ffe_core.backtest.walk_forward import make_windows, walk_forward
from ffe_core.config import Settings
from ffe_core.domain.errors import NotFoundError, ValidationFailed
from ffe_core.domain.instruments import Instrument
from ffe_entrypoints.assembly import Assembly
from ffe_entrypoints.services.backtest_payload import (
    OBJECTIVE,
    clean,
    heatmap,
    result_payload,
    warnings_of,
)

Outcome = dict[str, Any]
"""``{"status": "done", "result": {...}}``, ``{"status": "failed", "error": str}`` or
``{"status": "cancelled"}``."""


class JobCancelled(Exception):
    """The parent asked this job to stop; raised between two evaluations."""


class _Worker:
    """What one worker process keeps between jobs: settings, shared flags, an event loop and
    the market data chain (built on the first job, closed when the process exits)."""

    def __init__(self, settings: Settings, progress: Any, cancel: Any, assembly: Assembly) -> None:
        self.settings = settings
        self.assembly = assembly
        self.progress = progress
        self.cancel = cancel
        self.loop = asyncio.new_event_loop()
        self._container: Any = None

    def market_data(self) -> Any:
        if self._container is None:
            self._container = self.assembly.build(self.settings)
            Finalize(self, self._close, exitpriority=10)
        return self._container.market_data()

    def _close(self) -> None:
        """Close the market data chain and the loop; a second call (at exit) does nothing."""
        if self.loop.is_closed():
            return
        if self._container is not None:
            self.loop.run_until_complete(self.assembly.close(self._container))
        self.loop.close()


_worker: _Worker | None = None


def init_worker(
    settings: Mapping[str, Any], progress: Any, cancel: Any, niceness: int, assembly: Assembly
) -> None:
    """Per-process set-up: ``settings`` is ``Settings.model_dump()``; the arrays are shared;
    ``assembly`` builds this process's container on its first job that needs one."""
    global _worker
    if niceness and sys.platform != "win32":  # os.nice is POSIX-only
        os.nice(niceness)
    _worker = _Worker(Settings.model_validate(settings), progress, cancel, assembly)


def run_job(spec: Mapping[str, Any], slot: int) -> Outcome:
    """Run one job (a ``BacktestRequest`` dump plus ``strategy_ref``) in this worker."""
    worker = _worker
    if worker is None:
        return {"status": "failed", "error": "RuntimeError: backtest worker not initialised"}
    watch = _Watch(worker, slot)
    try:
        watch.check()
        if spec["kind"] == "replay":
            return {"status": "done", "result": _replay(worker, spec, watch)}
        if "order_strategy" in spec:
            return {"status": "done", "result": _order_job(worker, spec, watch)}
        strategy = _import(str(spec["strategy_ref"]))
        if spec.get("instruments"):
            return {"status": "done", "result": _portfolio(worker, spec, strategy, watch)}
        bars, step = _job_bars(worker, spec, watch)
        return {
            "status": "done",
            "result": _compute(spec, bars, watch.wrap(strategy), watch, step),
        }
    except JobCancelled:
        return {"status": "cancelled"}
    except Exception as exc:
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:500]}


class _Watch:
    """Counts strategy evaluations into ``progress[slot]`` and stops on ``cancel[slot]``."""

    def __init__(self, worker: _Worker, slot: int) -> None:
        self._progress, self._cancel, self._slot = worker.progress, worker.cancel, slot
        self.expected = 1
        self._calls = 0

    def check(self) -> None:
        if self._cancel[self._slot]:
            raise JobCancelled

    def runner(self, strategy: Runner) -> Runner:
        """``strategy`` counted and stoppable like :meth:`wrap`'s."""
        return Runner(self.wrap(strategy.run))

    def wrap(self, strategy: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(strategy)
        def watched(*args: Any, **kwargs: Any) -> Any:
            self.check()
            result = strategy(*args, **kwargs)
            self._calls += 1
            self._progress[self._slot] = min(0.99, self._calls / max(self.expected, 1))
            return result

        return watched

    def report(self, fraction: float) -> None:
        """Stop if asked to; otherwise record ``fraction`` of the job as done."""
        self.check()
        self._progress[self._slot] = min(0.99, fraction)


def _replay(worker: _Worker, spec: Mapping[str, Any], watch: _Watch) -> dict[str, Any]:
    """A replay job: the configured stack over the market data chain's bars (``ffe replay``)."""
    from ffe_entrypoints.services.replay import (
        ReplayRequest,
        configured,
        run_replay,
        sleeve_of,
    )

    settings = configured(
        worker.settings, spec["providers"], spec["aggregation"], ("providers", "aggregation")
    )
    sleeves = []
    for symbol in list(spec["instruments"]) or [spec["instrument"]]:
        instrument = _instrument(worker, str(symbol))
        bars = _load_bars(worker, instrument, int(spec["bars"]))
        sleeves.append(sleeve_of(bars, instrument, spec["start"], spec["end"], symbol, LABELS))
    request = ReplayRequest(
        sleeves,
        weights="learned" if spec["weighting"] == "learned" else "equal",
        approvals="skip" if spec["approvals"] == "skip" else "auto",
        allow_lookahead=bool(spec["allow_lookahead"]),
        yes=bool(spec["yes"]),
        max_cost=spec["max_cost"],
        anonymize=bool(spec.get("anonymize", False)),
    )
    out = worker.loop.run_until_complete(
        run_replay(
            settings,
            request,
            worker.assembly,
            lambda done, total: watch.report(done / max(total, 1)),
        )
    )
    out.pop("_run")
    results = out.pop("_results")
    if spec.get("walk_forward"):
        from ffe_entrypoints.services.live_gate import store_gate

        out["live_gate"] = store_gate(settings, results, contaminated=out["contaminated"])
    return out


LABELS = ("start", "end")
"""How a replay job names its date range in errors (``ffe replay`` says --from/--to)."""


def _import(ref: str) -> Callable[..., Any]:
    """``module:a.b`` -> ``module.a.b``; a step into a mapping looks the name up in it."""
    module, _, qualname = ref.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = target[part] if isinstance(target, Mapping) else getattr(target, part)
    return target  # type: ignore[no-any-return]


def _instrument(worker: _Worker, symbol: str) -> Instrument:
    """The configured instrument ``symbol`` (NotFoundError naming it otherwise)."""
    instrument = worker.settings.instrument(symbol)
    if instrument is None:
        raise NotFoundError(f"unknown instrument {symbol!r}")
    return instrument


def _job_bars(worker: _Worker, spec: Mapping[str, Any], watch: _Watch) -> tuple[Bars, float]:
    """A one-instrument job's bars and its unit step (fractional for crypto)."""
    instrument = _instrument(worker, str(spec["instrument"]))
    bars = _load_bars(worker, instrument, int(spec["bars"]))
    watch.check()
    return bars, unit_step_for(instrument.size_increment)


def _fill_config(spec: Mapping[str, Any], unit_step: float) -> FillConfig:
    """The job's cash and costs; ``finalize`` is True for jobs stored before the option."""
    return FillConfig(
        cash=float(spec["cash"]),
        commission=float(spec["commission"]),
        unit_step=unit_step,
        finalize=bool(spec.get("finalize", True)),
    )


def _load_bars(worker: _Worker, instrument: Instrument, limit: int) -> Bars:
    raw = worker.loop.run_until_complete(
        worker.market_data().get_bars(instrument, worker.settings.market_data.interval, limit=limit)
    )
    if not raw:
        raise ValidationFailed(f"no bars for {instrument.symbol}")
    return bars_of(raw)


def _compute(
    spec: Mapping[str, Any],
    bars: Bars,
    strategy: Callable[..., Any] | Runner,
    watch: _Watch,
    unit_step: float,
) -> dict[str, Any]:
    """The job's result; ``unit_step`` follows the instrument (fractional for crypto).
    ``strategy``: a target strategy, or the Runner of an order-level one (searches only)."""
    kind, name = spec["kind"], str(spec["strategy"])
    params: dict[str, Any] = dict(spec["params"])
    cfg = _fill_config(spec, unit_step)
    strategy_spec = spec_for(name)
    if kind == "backtest":
        assert not isinstance(strategy, Runner)  # an order-level backtest is _order_level
        try:
            target = strategy(bars.open, bars.high, bars.low, bars.close, bars.volume, **params)
        except TypeError as exc:
            raise ValidationFailed(f"params: {exc}") from None
        run = simulate(bars, target, cfg)
        return _one_run(run, bars, strategy_spec.warmup(params), cfg, target)
    space = {**strategy_spec.grid, **dict(spec["grid"])}
    candidates = grid(space, strategy_spec.constraint)
    if not candidates:
        raise ValidationFailed("grid: no parameter combination satisfies the constraint")
    if kind == "optimize":
        watch.expected = len(candidates) + 1
        evaluations = run_search(
            bars,
            strategy,
            candidates,
            cfg,
            objective=OBJECTIVE,
            workers=1,
            warmup=strategy_spec.warmup,
            calendar=Calendar.of(bars),
        )
        top = best(evaluations)
        run = runner_of(strategy).run(bars, top.params, cfg, 0)
        warm = run.warmup if isinstance(run, OrderRunResult) else strategy_spec.warmup(top.params)
        stats = compute_stats(run, bars, warmup=warm)
        payload = result_payload(run.equity, bars, stats, run, heatmap(space, evaluations))
        payload["best_params"] = top.params
        payload["warnings"] = warnings_of(unaffordable(bars, cfg))
        return payload
    n = len(bars)
    in_sample, out_of_sample = max(50, n * 2 // 5), max(20, n // 5)
    windows = len(make_windows(n, in_sample, out_of_sample, anchored=False))
    overfit = len(candidates) if len(candidates) >= 2 else 0
    watch.expected = windows * (len(candidates) + 1) + overfit
    result = walk_forward(
        bars,
        strategy,
        candidates,
        cfg,
        in_sample=in_sample,
        out_of_sample=out_of_sample,
        warmup=strategy_spec.warmup,
        workers=1,
    )
    payload = result_payload(result.equity, bars, result.stats, None, None, result.oos_start)
    payload["windows"] = [
        {
            "params": w.params,
            "in_sample_score": clean(w.in_sample_score),
            "oos_return_pct": clean(w.oos_return_pct),
        }
        for w in result.windows
    ]
    payload["pbo"] = clean(result.pbo)
    payload["deflated_sharpe"] = clean(result.deflated_sharpe)
    payload["warnings"] = warnings_of(unaffordable(bars, cfg))
    return payload


def _order_job(worker: _Worker, spec: Mapping[str, Any], watch: _Watch) -> dict[str, Any]:
    """A job of an order-level strategy, found by its registered name (never code)."""
    name = str(spec["order_strategy"])
    strategy = _registry().factory("order_strategies", name)
    bars, step = _job_bars(worker, spec, watch)
    if spec["kind"] == "backtest":
        return _order_level(spec, bars, strategy, step)
    return _compute(spec, bars, watch.runner(order_runner(strategy)), watch, step)


@functools.cache
def _registry() -> Any:
    from ffe_adapters.registry import load_registry

    return load_registry()


def _order_level(
    spec: Mapping[str, Any], bars: Bars, strategy: OrderStrategy, unit_step: float
) -> dict[str, Any]:
    """One run of an order-level strategy."""
    fill = _fill_config(spec, unit_step)
    try:
        run = run_order_strategy(bars, strategy, BrokerConfig(fill), **dict(spec["params"]))
    except ValueError as exc:
        raise ValidationFailed(f"params: {exc}") from None
    return _one_run(run, bars, run.warmup, fill, None)


def _one_run(
    run: RunResult, bars: Bars, warmup: int, fill: FillConfig, target: np.ndarray | None
) -> dict[str, Any]:
    """The result of one run (a backtest, not a search): stats, series, trades and the warning
    when cash could not buy what ``target`` (or, without one, the strategy) asked for."""
    stats = compute_stats(run, bars, warmup=warmup)
    payload = result_payload(run.equity, bars, stats, run, None)
    payload["warnings"] = warnings_of(unaffordable(bars, fill, target, len(run.trades)))
    return payload


def _portfolio(
    worker: _Worker, spec: Mapping[str, Any], strategy: Callable[..., Any], watch: _Watch
) -> dict[str, Any]:
    """A portfolio job: every instrument's bars on one clock and one account (risk settings)."""
    from ffe_core.backtest.portfolio import (
        common_clock,
        exit_counts,
        portfolio_stats,
        run_portfolio,
    )

    symbols = [str(s) for s in spec["instruments"]]
    raw: list[Bars] = []
    costs: list[FillConfig] = []
    for symbol in symbols:
        instrument = _instrument(worker, symbol)
        raw.append(_load_bars(worker, instrument, int(spec["bars"])))
        step = unit_step_for(instrument.size_increment)
        costs.append(
            FillConfig(
                cash=float(spec["cash"]), commission=float(spec["commission"]), unit_step=step
            )
        )
        watch.check()
    bars = common_clock(raw)
    params: dict[str, Any] = dict(spec["params"])
    try:
        targets = [strategy(b.open, b.high, b.low, b.close, b.volume, **params) for b in bars]
    except TypeError as exc:
        raise ValidationFailed(f"params: {exc}") from None
    res = run_portfolio(
        symbols,
        bars,
        targets,
        costs,
        cash=float(spec["cash"]),
        risk=worker.settings.risk,
        protective=bool(spec.get("risk_stops", False)),  # jobs stored before the option: off
    )
    stats = portfolio_stats(res, costs, warmup=spec_for(str(spec["strategy"])).warmup(params))
    payload = result_payload(res.equity, bars[0], stats["portfolio"], None, None)
    payload["instruments"] = {
        s: {k: (clean(v) if isinstance(v, float) else v) for k, v in json_ready(st).items()}
        for s, st in stats["instruments"].items()
    }
    payload["kill_switch_bar"] = stats["kill_switch_bar"]
    payload["exits"] = {s: exit_counts(t.reason) for s, t in zip(symbols, res.trades, strict=True)}
    return payload
