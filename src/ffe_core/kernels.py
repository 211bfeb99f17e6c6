"""Numba kernels compiled on first use: importing a module that defines kernels imports no numba.

``@kernel`` stands for ``@numba.njit(cache=True, nogil=True)``. The first call of any kernel
imports numba and turns every kernel defined so far into its numba dispatcher, rebinding the
module attributes that name it, so that kernels calling kernels are compiled against
dispatchers as before. A process that never backtests nor computes indicators never loads numba.

``@tiered_kernel`` marks a kernel whose Python function gives the same numbers (arithmetic and
``sqrt`` only, no fast-math): while numba is not loaded, a call on at most
:data:`PYTHON_ELEMENTS` array elements runs it as Python, so a command that decides once on a
few hundred bars (``ffe decide``, an API decision) never pays numba's ~0.5 s load; the
:data:`PYTHON_CALLS`-th such call, or any larger one, loads numba as before (a long-lived
agent runs compiled after its first cycles). A tiered kernel calls only tiered kernels.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

_pending: list[LazyKernel] = []
_lock = threading.Lock()


PYTHON_ELEMENTS = 2_000
"""A tiered kernel's call on at most this many array elements may run as Python."""
PYTHON_CALLS = 300
"""How many tiered calls on arrays run as Python before numba is loaded anyway."""
_python_calls = 0


class LazyKernel:
    """A Python function that becomes a numba dispatcher when a kernel is first called
    (``tiered``: see the module docstring)."""

    def __init__(self, fn: Callable[..., Any], *, tiered: bool = False) -> None:
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.tiered = tiered
        self.dispatcher: Any = None
        _pending.append(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.dispatcher is None:
            if self.tiered and _runs_as_python(args):
                return self.py_func(*args, **kwargs)
            compile_kernels()
        return self.dispatcher(*args, **kwargs)


def _runs_as_python(args: tuple[Any, ...]) -> bool:
    """Whether a tiered call on ``args`` runs as Python (numba not loaded yet): few elements,
    and fewer than :data:`PYTHON_CALLS` calls on arrays so far (a call on scalars alone runs
    inside one of those and is not counted)."""
    global _python_calls
    arrays = [a.size for a in args if isinstance(a, np.ndarray)]
    if sum(arrays) > PYTHON_ELEMENTS:
        return False
    if arrays:
        _python_calls += 1
    return _python_calls <= PYTHON_CALLS


def kernel(fn: F) -> F:
    """Mark ``fn`` a numba kernel (``njit(cache=True, nogil=True)``), compiled on first use."""
    return cast(F, LazyKernel(fn))


def tiered_kernel(fn: F) -> F:
    """:func:`kernel`, whose small calls run as Python until numba is loaded (module docstring)."""
    return cast(F, LazyKernel(fn, tiered=True))


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
