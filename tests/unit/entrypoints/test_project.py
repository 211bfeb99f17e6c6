"""The project (config and database) is found the same way from any working directory."""

from __future__ import annotations

import json
from pathlib import Path

from ffe_entrypoints.project import anchored, locate
from tests.e2e.test_cli import run


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "config").mkdir(parents=True)
    (root / "config" / "config.yaml").write_text("agent:\n  interval_seconds: 7\n")
    (root / "src" / "deep").mkdir(parents=True)
    return root


def test_locate_in_order_explicit_env_home_then_walking_up(tmp_path: Path) -> None:
    root = project(tmp_path)
    deep = root / "src" / "deep"
    assert locate(Path("x"), {}, deep).found_by == "--config-dir"
    assert locate(None, {"FFE_CONFIG_DIR": "y"}, deep).config_dir == Path("y")
    home = locate(None, {"FFE_HOME": str(root)}, tmp_path)
    assert (home.config_dir, home.root, home.found_by) == (root / "config", root, "FFE_HOME")
    walked = locate(None, {}, deep)
    assert walked.root == root and walked.found_by.startswith("found above")
    assert walked.files() == [root / "config" / "config.yaml"]
    alone = locate(None, {}, tmp_path)
    assert alone.root is None and alone.files() == []


def test_a_relative_sqlite_path_is_anchored_at_the_project_root(tmp_path: Path) -> None:
    url = "sqlite+aiosqlite:///./data/ffe.db"
    assert anchored(url, tmp_path) == f"sqlite+aiosqlite:///{tmp_path.resolve()}/data/ffe.db"
    assert anchored(url, None) == url
    assert anchored("sqlite+aiosqlite:////abs/x.db", tmp_path) == "sqlite+aiosqlite:////abs/x.db"
    assert anchored("sqlite+aiosqlite:///:memory:", tmp_path) == "sqlite+aiosqlite:///:memory:"
    pg = "postgresql+asyncpg://u@h/db"
    assert anchored(pg, tmp_path) == pg


def test_commands_from_a_subdirectory_use_the_projects_config_and_database(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    shown = run(["config", "show", "--json"], root / "src" / "deep")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["agent"]["interval_seconds"] == 7
    assert data["in_use"]["files"] == [str(root / "config" / "config.yaml")]
    assert data["in_use"]["database"] == f"sqlite+aiosqlite:///{root}/data/ffe.db"
    made = run(["db", "upgrade"], root / "src" / "deep")
    assert made.returncode == 0, made.stderr
    assert (root / "data" / "ffe.db").is_file() and not (root / "src" / "deep" / "data").exists()
    text = run(["config", "show"], root / "src").stdout
    assert f"# config: {root / 'config' / 'config.yaml'}\n#   (found above {root / 'src'})" in text
