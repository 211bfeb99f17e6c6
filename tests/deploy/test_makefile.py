"""``make run`` rebuilds the dashboard only when its sources changed, and installs with progress.

Each test runs make on a copy of the Makefile in a temporary tree (``-q``/``-n``: nothing is
built), with file times set explicitly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    "frontend/src/main.tsx",
    "frontend/src/lib/format.ts",
    "frontend/public/favicon.svg",
    "frontend/index.html",
    "frontend/package-lock.json",
    "frontend/vite.config.ts",
    "frontend/tsconfig.json",
]
TESTS = ["frontend/src/lib/format.test.ts", "frontend/src/test/fixtures.ts"]
BUILT = ["frontend/node_modules/.package-lock.json", "frontend/dist/index.html"]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "NPM=npm", *args],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A checkout whose dashboard was built after every source was last changed."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for i, name in enumerate([*SOURCES, *TESTS, *BUILT]):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        stamp = 1_000_000 + (10_000 if name in BUILT else 0) + i
        os.utime(path, (stamp, stamp))
    return tmp_path


def touch(path: Path) -> None:
    os.utime(path, (2_000_000, 2_000_000))


def test_built_dashboard_is_not_rebuilt(tree: Path) -> None:
    assert make(tree, "-q", "frontend/dist/index.html").returncode == 0
    assert "npm run build" not in make(tree, "-n", "frontend-build").stdout


@pytest.mark.parametrize("name", TESTS)
def test_changing_a_dashboard_test_does_not_rebuild(tree: Path, name: str) -> None:
    touch(tree / name)
    assert make(tree, "-q", "frontend/dist/index.html").returncode == 0


@pytest.mark.parametrize("name", SOURCES)
def test_changing_a_dashboard_source_rebuilds(tree: Path, name: str) -> None:
    touch(tree / name)
    assert make(tree, "-q", "frontend/dist/index.html").returncode == 1
    plan = make(tree, "-n", "frontend-build").stdout
    assert "npm run build" in plan, plan


def test_a_new_lockfile_reinstalls_then_rebuilds(tree: Path) -> None:
    touch(tree / "frontend/package-lock.json")
    plan = make(tree, "-n", "frontend/dist/index.html").stdout
    assert plan.index("npm ci") < plan.index("npm run build"), plan


@pytest.fixture
def install_plan(tmp_path: Path) -> str:
    """What ``make install`` would run in a tree with nothing installed (``make -n``)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "plugins/ffe-plugin-example").mkdir(parents=True)
    (tmp_path / "plugins/ffe-plugin-example/pyproject.toml").write_text("")
    return make(tmp_path, "-n", "install").stdout


def test_python_install_shows_progress(install_plan: str) -> None:
    install = next(line for line in install_plan.splitlines() if "-e '.[dev]'" in line)
    assert "--quiet" not in install
    assert "==> " in install_plan  # a heading says what the long step is


def test_install_compiles_the_kernels_after_installing(install_plan: str) -> None:
    warm = install_plan.index("scripts/warm-kernels.sh .venv/bin")
    assert install_plan.index("-e '.[dev]'") < warm, install_plan
    assert (ROOT / "scripts/warm-kernels.sh").stat().st_mode & 0o111, "the script is executable"
