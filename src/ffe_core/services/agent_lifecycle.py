"""The agent's run: one at a time per storage, held under the leader lease when one is set.

:class:`AgentLifecycle` registers the run (taking over one a dead process left), keeps its
heartbeat, fences every side effect with the lease's token, carries the stop/pause signals and
closes the run — letting the lease go even when storage fails on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime

from ffe_core.config import Settings
from ffe_core.domain.agent import AgentRun, AgentState, CyclePhase
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError
from ffe_core.ports.clock import Clock
from ffe_core.ports.lease import (
    LeaderLease,
    LeaseKeeper,
    StaleLeader,
    holder_is_gone,
)
from ffe_core.ports.metrics import Metrics
from ffe_core.ports.storage import UnitOfWorkFactory


@dataclass
class AgentProgress:
    """What the agent is doing now (served by the control plane)."""

    state: AgentState = AgentState.STOPPED
    run: AgentRun | None = None
    cycles: int = 0
    last_cycle_at: datetime | None = None
    started_monotonic: float = 0.0
    phase: CyclePhase | None = None
    instrument: str | None = None
    last_error: str | None = None
    last_decisions: list[Decision] = field(default_factory=list)

    def restart(self, run: AgentRun) -> None:
        """Start afresh for ``run``, in place: every collaborator holds this one object."""
        fresh = AgentProgress(state=AgentState.RUNNING, run=run, started_monotonic=time.monotonic())
        vars(self).update(vars(fresh))


class AgentLifecycle:
    """Acquire, heartbeat, fence and finish the agent's run; stop, pause and resume it."""

    def __init__(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics,
        progress: AgentProgress,
        *,
        holder: str,
        lease: LeaderLease | None,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.clock = clock
        self.metrics = metrics
        self.progress = progress
        self.holder = holder  # unique per agent instance (host:pid:random)
        self.lease = lease  # several processes on one storage: only the lease holder acts
        self._keeper: LeaseKeeper | None = None
        self._acquiring = False  # an acquire() under way: a second one is refused at once
        self._run_id: str | None = None  # the run acquired and not finished yet
        self._stop = asyncio.Event()
        self._resume = asyncio.Event()
        self._resume.set()
        self._halt = asyncio.Event()  # set by a stop or a pause: a decision under way is dropped

    @property
    def lease_seconds(self) -> float:
        return max(30.0, 3 * self.settings.agent.interval_seconds)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def acquire(self) -> AgentRun:
        """Register this run; refuses while another live agent holds the same storage, and
        while this agent already has a run (or is acquiring one): one agent, one run.

        With a leader lease, the lease decides instead: refused while another holds it, and a
        run left by a previous holder is taken over.
        """
        if self._acquiring or self._run_id is not None:
            raise ConflictError(
                f"the agent is already running (run {self._run_id})"
                if self._run_id
                else "the agent is already starting"
            )
        self._acquiring = True  # set before the first await: concurrent callers see it
        try:
            self._stop.clear()  # a stop requested after this point (even before run()) holds
            if self._resume.is_set():
                self._halt.clear()
            await self._drop_lease()  # a keeper left behind must never renew beside ours
            if self.lease is not None:
                self._keeper = await LeaseKeeper.take(self.lease, on_lost=self.stop)
            try:
                run = await self._register_run()
            except BaseException:
                await self._drop_lease()
                raise
            self._run_id = run.id
            return run
        finally:
            self._acquiring = False

    async def _register_run(self) -> AgentRun:
        now = self.clock.now()
        async with self.uow_factory() as uow:
            active = await uow.agent.active_run()
            closed: set[str] = set()
            while active is not None and active.id not in closed:  # every run left running
                if active.holder != self.holder and self._keeper is None:
                    age = (now - active.heartbeat_at).total_seconds()
                    if age < self.lease_seconds and not holder_is_gone(active.holder):
                        raise ConflictError(
                            f"another agent is running on this storage (holder "
                            f"{active.holder}, heartbeat {age:.0f}s ago)"
                        )
                await uow.agent.update_run(
                    active.model_copy(
                        update={
                            "state": AgentState.STOPPED,
                            "stopped_at": now,
                            "stop_reason": "taken over after its process stopped",
                        }
                    )
                )
                closed.add(active.id)
                active = await uow.agent.active_run()
            run = AgentRun(holder=self.holder, started_at=now, heartbeat_at=now)
            await uow.agent.add_run(run)
            await uow.commit()
        return run

    def begin(self, run: AgentRun) -> None:
        """The loop of ``run`` starts: progress afresh, the gauges say running."""
        self.progress.restart(run)
        self.metrics.agent_cycle(0.0, 0.0)
        self.metrics.agent_running(True)

    @property
    def heartbeat_every(self) -> float:
        """Seconds between stored heartbeats: a sixth of the lease, so a live run's heartbeat
        is never near the age at which another agent may take it over."""
        return self.lease_seconds / 6

    async def heartbeat(self) -> None:
        """Tell the storage this run is alive (when its stored heartbeat is ``heartbeat_every``
        old or its state changed); ConflictError when another took it over. A run can be
        taken over only once its heartbeat is ``lease_seconds`` old (without a lease) or its
        lease is lost (which stops it), so a fresher heartbeat needs no write."""
        run = self.progress.run
        if run is None:
            return
        now = self.clock.now()
        age = (now - run.heartbeat_at).total_seconds()
        if run.state is self.progress.state and 0 <= age < self.heartbeat_every:
            return
        run = run.model_copy(update={"heartbeat_at": now, "state": self.progress.state})
        async with self.uow_factory() as uow:
            current = await uow.agent.active_run()
            if current is not None and current.id != run.id:
                raise ConflictError(f"this agent's run was taken over by {current.holder}")
            await uow.agent.update_run(run)
            await uow.commit()
        self.progress.run = run

    async def finish(self, run: AgentRun, reason: str) -> None:
        """Close the run's row and give the lease up; the lease and the run are let go even when
        storage fails here, so neither a keeper nor a claim outlives the run."""
        current = self.progress.run or run
        try:
            async with self.uow_factory() as uow:
                await uow.agent.update_run(
                    current.model_copy(
                        update={
                            "state": AgentState.STOPPED,
                            "stopped_at": self.clock.now(),
                            "stop_reason": reason,
                        }
                    )
                )
                await uow.commit()
        finally:
            await self._drop_lease()
            self._run_id = None
            self.progress.state = AgentState.STOPPED
        self.metrics.agent_cycle(0.0, 0.0)
        self.metrics.agent_running(False)

    def fence(self) -> AbstractAsyncContextManager[None]:
        """With a lease: proceed only while our fencing token is current (else StaleLeader)."""
        if self._keeper is not None:
            return self._keeper.fenced()
        if self.lease is not None:
            raise StaleLeader(f"not the leader: lease {self.lease.name!r} is not held")
        return contextlib.nullcontext()

    async def _drop_lease(self) -> None:
        if self._keeper is not None:
            await self._keeper.stop()
            self._keeper = None

    def stop(self) -> None:
        """The loop ends after the current step: a decision still being made is abandoned
        (``CycleRunner.decide``), an order under way is finished and recorded."""
        self._stop.set()
        self._halt.set()
        self._resume.set()

    def pause(self) -> None:
        """No new decision is acted on: a decision still being made is abandoned, the pass
        ends after the cycle under way (an order being sent is finished and recorded)."""
        if self.progress.state is AgentState.RUNNING:
            self._resume.clear()
            self._halt.set()
            self.progress.state = AgentState.PAUSED

    def resume(self) -> None:
        if self.progress.state is AgentState.PAUSED:
            self.progress.state = AgentState.RUNNING
        if not self._stop.is_set():
            self._halt.clear()
        self._resume.set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    async def halted(self) -> None:
        """Return once a stop or a pause is asked for (at once if one has been)."""
        await self._halt.wait()

    async def resumed(self) -> None:
        """Wait while paused."""
        await self._resume.wait()

    async def sleep(self, seconds: float) -> None:
        """Wait between passes; a stop ends the wait at once."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def uptime(self) -> float:
        if self.progress.state is AgentState.STOPPED:
            return 0.0
        return time.monotonic() - self.progress.started_monotonic
