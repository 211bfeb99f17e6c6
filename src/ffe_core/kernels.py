"""Numba kernels compiled on first use: importing a module that defines kernels imports no numba.

``@kernel`` stands for ``@numba.njit(cache=True, nogil=True)``. The first call of any kernel
imports numba and turns every kernel defined so far into its numba dispatcher, rebinding the
module attributes that name it, so that kernels calling kernels are compiled against
dispatchers as before. A process that never backtests nor computes indicators never loads numba.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

_pending: list[LazyKernel] = []
_lock = threading.Lock()


class LazyKernel:
    """A Python function that becomes a numba dispatcher when a kernel is first called."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.dispatcher: Any = None
        _pending.append(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.dispatcher is None:
            compile_kernels()
        return self.dispatcher(*args, **kwargs)


def kernel(fn: F) -> F:
    """Mark ``fn`` a numba kernel (``njit(cache=True, nogil=True)``), compiled on first use."""
    return cast(F, LazyKernel(fn))


def python_of(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The plain Python function behind a kernel: it runs on any number type (e.g. Decimal)."""
    return cast(Callable[..., Any], cast(Any, fn).py_func)


def compile_kernels() -> None:
    """Import numba, make every kernel defined so far a dispatcher and rebind its names."""
    with _lock:
        if not _pending:
            return
        from numba import njit

        ready = {id(lazy): njit(cache=True, nogil=True)(lazy.py_func) for lazy in _pending}
        for module in list(sys.modules.values()):
            if not getattr(module, "__name__", "").startswith("ffe_"):
                continue
            names = vars(module)
            for name, value in list(names.items()):
                if isinstance(value, LazyKernel) and id(value) in ready:
                    names[name] = ready[id(value)]
        # published last: another thread calls a dispatcher only once every name is rebound
        for lazy in _pending:
            lazy.dispatcher = ready[id(lazy)]
        _pending.clear()
