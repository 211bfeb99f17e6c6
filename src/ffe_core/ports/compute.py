"""Compute backends: where a parameter search runs its evaluations."""

from __future__ import annotations

from concurrent.futures import Executor
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable


@runtime_checkable
class ComputeBackend(Protocol):
    """Lends an executor for one search (``ffe_core.backtest.search.run_search(executor=...)``);
    None runs the search in this process's own worker pool."""

    def executor(self) -> AbstractContextManager[Executor | None]: ...
