"""Backtest jobs for the API and dashboard: checked at submission, queued, run in worker
processes, polled for progress and results, cancellable.

Jobs live in memory (they are reproducible from their request). The API process does no heavy
work for them: submitting checks the request (every parameter, the size of the search) and
queues it; a worker process of a ``ProcessPoolExecutor`` (spawn context, ``backtests.workers``
processes, each single-threaded and at a lower CPU priority) loads the bars and computes, so
trading keeps its event loop, its threads and most of the CPU. At most ``backtests.max_queued``
jobs wait for a worker (more is refused, 429); a queued job can be cancelled before it starts,
a running one stops before its next parameter combination.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import multiprocessing
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ffe_core.backtest.strategies import spec_for
from ffe_core.config import Settings
from ffe_core.domain.decisions import new_id
from ffe_core.domain.errors import ConflictError, NotFoundError, RateLimited, ValidationFailed
from ffe_entrypoints.assembly import Assembly
from ffe_entrypoints.services.backtest_models import (
    BacktestJob,
    BacktestRequest,
    StrategyInfo,
)
from ffe_entrypoints.services.backtest_params import (
    candidates,
    check_grid,
    check_params,
    check_work,
    importable_ref,
    param_rules,
    rules_from_defaults,
    strategy_params,
)
from ffe_entrypoints.services.backtest_worker import Outcome, init_worker, run_job
from ffe_entrypoints.services.replay_params import checked_replay

if TYPE_CHECKING:  # the order broker's kernels load in the workers, not the API
    from ffe_core.backtest.orders import OrderStrategy

MAX_JOBS = 200
FINISHED = frozenset({"done", "failed", "cancelled"})


class _Pool:
    """The worker processes and the two arrays they share with this process: per slot (one
    per worker) the progress of its job and the flag that asks it to stop."""

    def __init__(self, settings: Settings, assembly: Assembly) -> None:
        ctx = multiprocessing.get_context("spawn")
        n = settings.backtests.workers
        self.progress: Any = ctx.Array("d", n, lock=False)
        self.cancel: Any = ctx.Array("b", n, lock=False)
        self.free = list(range(n - 1, -1, -1))
        self.executor = ProcessPoolExecutor(
            max_workers=n,
            mp_context=ctx,
            initializer=init_worker,
            initargs=(
                settings.model_dump(),
                self.progress,
                self.cancel,
                settings.backtests.worker_niceness,
                assembly,
            ),
        )

    def stop(self) -> None:
        """Ask the workers to exit once idle; returns at once."""
        for slot in range(len(self.cancel)):
            self.cancel[slot] = 1
        self.executor.shutdown(wait=False, cancel_futures=True)


@dataclass
class _Running:
    pool: _Pool
    slot: int
    future: Future[Outcome]


class BacktestService:
    def __init__(
        self,
        settings: Settings,
        assembly: Assembly,
        strategies: Callable[[], Mapping[str, Callable[..., Any]]] = dict,
        provider_names: Callable[[], Iterable[str]] = tuple,
        order_strategies: Callable[[], Mapping[str, OrderStrategy]] = dict,
    ) -> None:
        """Bars are loaded by the worker processes, from the same settings; strategies are
        the registry's, by name (an order-level one runs in the worker by its registered
        name: a request never carries code); ``assembly`` builds a worker's own container."""
        self.settings = settings
        self.assembly = assembly
        self.limits = settings.backtests
        self._strategies = strategies
        self._order_strategies = order_strategies
        self._provider_names = provider_names
        self.jobs: dict[str, BacktestJob] = {}
        self._queue: deque[str] = deque()
        self._specs: dict[str, dict[str, Any]] = {}
        self._running: dict[str, _Running] = {}
        self._pool: _Pool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.TimerHandle | None = None

    def strategies(self) -> list[StrategyInfo]:
        from ffe_core.backtest.orders import parameters

        out = []
        for name, fn in self._strategies().items():
            params = {
                p: default
                for p, default in strategy_params(fn).items()
                if default is not inspect.Parameter.empty
            }
            out.append(StrategyInfo(name=name, params=params))
        for name, orders in self._order_strategies().items():
            out.append(StrategyInfo(name=name, params=parameters(orders), level="order"))
        return sorted(out, key=lambda s: s.name)

    def get(self, job_id: str) -> BacktestJob:
        if job_id not in self.jobs:
            raise NotFoundError(f"unknown backtest job {job_id!r}")
        return self._current(job_id)

    def list(self) -> list[BacktestJob]:
        jobs = [self._current(job_id) for job_id in list(self.jobs)]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)

    async def submit(self, request: BacktestRequest) -> BacktestJob:
        """Check ``request`` and queue it; returns at once (the work happens in a worker)."""
        spec = self._checked(request)
        if len(self._running) >= self.limits.workers and len(self._queue) >= self.limits.max_queued:
            raise RateLimited(
                f"backtests: {len(self._queue)} jobs already wait for a worker "
                f"(backtests.max_queued = {self.limits.max_queued}); "
                "wait for one to finish or cancel one"
            )
        self._loop = asyncio.get_running_loop()
        job = BacktestJob(
            id=new_id(),
            kind=request.kind,
            status="queued",
            request=request,
            created_at=datetime.now(UTC),
        )
        self._evict()
        self.jobs[job.id] = job
        self._specs[job.id] = spec
        self._queue.append(job.id)
        self._dispatch()
        return self.jobs[job.id]

    def cancel(self, job_id: str) -> BacktestJob:
        """Cancel a queued job (it never starts) or a running one (its worker stops it before
        the next parameter combination); 409 when the job has already finished."""
        job = self.get(job_id)
        if job.status in FINISHED:
            raise ConflictError(f"backtest job {job_id!r} is already {job.status}")
        if job_id in self._specs:
            self._queue.remove(job_id)
            del self._specs[job_id]
        running = self._running.get(job_id)
        if running is not None:
            running.pool.cancel[running.slot] = 1
        self._update(job_id, status="cancelled")
        return self.jobs[job_id]

    async def close(self) -> None:
        """Cancel every job and stop the workers (waits for them to exit)."""
        for job_id in [*self._specs, *self._running]:
            if self.jobs[job_id].status not in FINISHED:
                self.cancel(job_id)
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            await asyncio.to_thread(pool.executor.shutdown, wait=True)

    # -- checks -------------------------------------------------------------------------------

    def _checked(self, request: BacktestRequest) -> dict[str, Any]:
        """What the worker gets: the request as plain data and which strategy to run (a target
        strategy's import path, or an order-level strategy's registered name)."""
        if request.walk_forward and request.kind != "replay":
            raise ValidationFailed(
                f"walk_forward: only a replay job stores the live gate's report (kind "
                f"{request.kind!r}; a signal strategy's walk-forward is kind 'walk_forward')"
            )
        if request.kind == "replay":
            checked_replay(request, self.settings, set(self._provider_names()))
            return request.model_dump()
        from ffe_core.backtest.orders import parameters

        orders = self._order_strategies()
        order_level = orders.get(request.strategy)
        extra: dict[str, Any]
        if order_level is not None:
            if request.instruments:
                raise ValidationFailed(
                    f"instruments: {request.strategy} is order-level: it runs on one instrument"
                )
            rules = rules_from_defaults(request.strategy, parameters(order_level))
            extra = {"order_strategy": request.strategy}
        else:
            strategy = self._strategies().get(request.strategy)
            if strategy is None:
                known = ", ".join(sorted([*self._strategies(), *orders]))
                raise ValidationFailed(f"strategy: unknown {request.strategy!r} (known: {known})")
            if request.instruments and (
                request.kind != "backtest"
                or len(request.instruments) < 2
                or len(set(request.instruments)) != len(request.instruments)
            ):
                raise ValidationFailed(
                    "instruments: a portfolio is a kind 'backtest' of two or more distinct "
                    "instruments"
                )
            if request.risk_stops and len(request.instruments) < 2:
                raise ValidationFailed(
                    "risk_stops: applies to a portfolio (two or more instruments)"
                )
            rules = param_rules(request.strategy, strategy)
            extra = {"strategy_ref": importable_ref(request.strategy, strategy)}
        for symbol in request.instruments or [request.instrument]:
            if self.settings.instrument(symbol) is None:
                raise NotFoundError(f"unknown instrument {symbol!r}")
        unknown = sorted((set(request.params) | set(request.grid)) - set(rules))
        if unknown:
            raise ValidationFailed(
                f"params: {request.strategy} takes no {', '.join(unknown)} "
                f"(it takes {', '.join(sorted(rules)) or 'nothing'})"
            )
        check_params(rules, request.params)
        check_grid(rules, request.grid)
        combinations = 1
        if request.kind != "backtest":
            spec = spec_for(request.strategy)
            if not (request.grid or spec.grid):
                raise ValidationFailed("grid: give parameter values to search")
            combinations = len(candidates(spec, request.grid)[1])
        check_work(
            request.bars * max(1, len(request.instruments)), combinations, self.limits.max_work
        )
        return {**request.model_dump(), **extra}

    # -- jobs and workers ---------------------------------------------------------------------

    def _update(self, job_id: str, **changes: Any) -> None:
        job = self.jobs.get(job_id)
        if job is not None:  # validated (model_copy is not), so the job stays JSON-safe
            self.jobs[job_id] = BacktestJob.model_validate({**dict(job), **changes})

    def _current(self, job_id: str) -> BacktestJob:
        """The job, its progress read from its worker's slot while it runs."""
        running = self._running.get(job_id)
        if running is not None and self.jobs[job_id].status == "running":
            self._update(job_id, progress=round(float(running.pool.progress[running.slot]), 4))
        return self.jobs[job_id]

    def _evict(self) -> None:
        finished = [j for j in self.jobs.values() if j.status in FINISHED]
        if len(self.jobs) >= MAX_JOBS and finished:
            self.jobs.pop(min(finished, key=lambda j: j.created_at).id)

    def _ensure_pool(self) -> _Pool:
        if self._pool is None:
            self._pool = _Pool(self.settings, self.assembly)
            weakref.finalize(self, self._pool.stop)
        return self._pool

    def _dispatch(self) -> None:
        """Hand queued jobs to free workers (``submit`` only writes to the workers' queue)."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        while self._queue and (pool := self._ensure_pool()).free:
            job_id = self._queue.popleft()
            slot = pool.free.pop()
            pool.progress[slot], pool.cancel[slot] = 0.0, 0
            try:
                future = pool.executor.submit(run_job, self._specs.pop(job_id), slot)
            except Exception as exc:  # no worker could be started (or the pool is broken)
                self._update(job_id, status="failed", error=f"no backtest worker: {exc!r}"[:500])
                self._pool = None
                pool.stop()
                continue
            self._running[job_id] = _Running(pool, slot, future)
            self._update(job_id, status="running")
            future.add_done_callback(functools.partial(self._from_worker, self._loop, job_id))
        if not self._queue and not self._running and self._pool is not None and self._loop:
            self._idle = self._loop.call_later(self.limits.idle_seconds, self._stop_idle_pool)

    def _from_worker(
        self, loop: asyncio.AbstractEventLoop | None, job_id: str, future: Future[Outcome]
    ) -> None:
        """Runs in the executor's thread: hand the outcome to the event loop."""
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to tell
            loop.call_soon_threadsafe(self._finished, job_id, future)

    def _finished(self, job_id: str, future: Future[Outcome]) -> None:
        running = self._running.pop(job_id, None)
        if running is None:
            return
        running.pool.free.append(running.slot)
        stopped_at = round(float(running.pool.progress[running.slot]), 4)
        try:
            outcome = future.result()
        except CancelledError:
            outcome = {"status": "cancelled"}
        except Exception as exc:  # the worker process died (killed, out of memory)
            outcome = {"status": "failed", "error": f"backtest worker failed: {exc!r}"[:500]}
            if self._pool is running.pool:
                self._pool = None
                running.pool.stop()
        job = self.jobs.get(job_id)
        if job is None:
            pass
        elif job.status == "cancelled" or outcome["status"] == "cancelled":
            self._update(job_id, status="cancelled", progress=stopped_at)
        elif outcome["status"] == "done":
            self._update(job_id, status="done", progress=1.0, result=outcome["result"])
        else:
            self._update(job_id, status="failed", error=outcome["error"])
        self._dispatch()

    def _stop_idle_pool(self) -> None:
        self._idle = None
        if not self._queue and not self._running and self._pool is not None:
            pool, self._pool = self._pool, None
            pool.stop()
