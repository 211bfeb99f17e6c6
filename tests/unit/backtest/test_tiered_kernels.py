"""Tiered kernels (``ffe_core.kernels.tiered_kernel``) give the same numbers as Python and
compiled: a small call runs the Python function until numba is loaded, a larger (or later) one
the dispatcher, so a decision must not depend on which ran. The Python side runs in a fresh
interpreter that never loads numba (helpers such as ``kahan_add`` run as Python there too),
on seeded random series with NaNs, ties and signed zeros; this process compiles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ffe_core import indicators
from ffe_core.kernels import LazyKernel, compile_kernels

SEED, CASES = 20261207, 400

CASES_CODE = '''
import numpy as np

def cases(seed, n):
    """(kernel name, args) for ``n`` seeded series per kernel."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        size = int(rng.integers(0, 120))
        x = rng.normal(100.0, 5.0, size).round(int(rng.integers(0, 3)))  # ties after rounding
        x[rng.random(size) < 0.05] = np.nan
        x[rng.random(size) < 0.03] = -0.0
        p = int(rng.integers(1, 40))
        out += [
            ("_sma_kernel", (x, p)),
            ("_ema_kernel", (x, p, 2.0 / (p + 1.0))),
            ("_wilder_kernel", (x, p, p % 2)),
            ("_rolling_extreme", (x, p, p % 2 == 0)),
            ("_rolling_std_kernel", (x, p, 1)),
        ]
    return out
'''

PYTHON_SIDE = (
    CASES_CODE
    + """
import sys
from ffe_core import indicators, kernels

kernels.PYTHON_CALLS = 10**9  # every call of this run stays Python
results = [getattr(indicators, name)(*args) for name, args in cases(int(sys.argv[1]), int(sys.argv[2]))]
assert "numba" not in sys.modules, "the Python tier loaded numba"
np.savez(sys.argv[3], *results)
"""
)


def cases(seed: int, n: int) -> list[tuple[str, tuple[Any, ...]]]:
    namespace: dict[str, Any] = {}
    exec(CASES_CODE, namespace)
    found: list[tuple[str, tuple[Any, ...]]] = namespace["cases"](seed, n)
    return found


def tiered() -> set[str]:
    """The kernels of ``ffe_core.indicators`` declared ``@tiered_kernel``."""
    source = Path(indicators.__file__).read_text()
    return {
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef)
        and "tiered_kernel" in {ast.unparse(d) for d in node.decorator_list}
    }


def test_the_indicators_a_decision_computes_are_tiered() -> None:
    called = {name for name, _ in cases(SEED, 1)}
    assert called | {"kahan_add", "window_mean"} <= tiered()  # what ``ffe decide`` calls


def test_the_install_compiles_every_tiered_kernel() -> None:
    """``compile_tiered`` (run by scripts/warm-kernels.sh) leaves each tiered kernel compiled,
    so an agent switching to compiled code loads it from numba's cache: no backtest or replay
    of the warm-up calls these compiled any more (their small calls run as Python)."""
    indicators.compile_tiered()
    uncompiled = sorted(n for n in tiered() if not getattr(indicators, n).signatures)
    assert uncompiled == []


def test_python_and_compiled_give_the_same_numbers(tmp_path: Path) -> None:
    saved = tmp_path / "python.npz"
    done = subprocess.run(
        [sys.executable, "-c", PYTHON_SIDE, str(SEED), str(CASES), str(saved)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    python = np.load(saved)
    compile_kernels()
    checked = 0
    for k, (name, args) in enumerate(cases(SEED, CASES)):
        compiled = getattr(indicators, name)
        assert not isinstance(compiled, LazyKernel)
        ran, made = python[f"arr_{k}"], compiled(*args)
        np.testing.assert_array_equal(ran, made, err_msg=name)  # NaN where NaN
        numbers = ~np.isnan(made)
        assert (np.signbit(ran[numbers]) == np.signbit(made[numbers])).all(), name  # -0.0
        checked += 1
    assert checked == 5 * CASES
