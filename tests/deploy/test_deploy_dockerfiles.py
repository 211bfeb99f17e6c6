"""The two images: multi-stage, the agreed base images, a non-root final user, a healthcheck,
and a build context (.dockerignore) that sends only what they copy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy_support import DEPLOY, DOCKERFILES, ROOT

ROOT_USERS = frozenset({"", "root", "0", "0:0", "root:root"})


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse_stages(path: Path) -> list[Stage]:
    """Dockerfile stages with their instructions (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return stages


def effective(stages: list[Stage], index: int, keyword: str) -> str | None:
    """The last value of ``keyword`` that stage ``index`` has, following FROM <earlier stage>."""
    stage = stages[index]
    values = [rest for kw, rest in stage.instructions if kw == keyword]
    if values:
        return values[-1]
    parents = [i for i, s in enumerate(stages[:index]) if s.name == stage.base]
    return effective(stages, parents[-1], keyword) if parents else None


def build_args(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+)=(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_final_stage_runs_as_non_root_with_healthcheck(path: Path) -> None:
    stages = parse_stages(path)
    assert len(stages) >= 2, "multi-stage build expected"
    final = len(stages) - 1
    user = effective(stages, final, "USER")
    assert user is not None, "no USER in the final stage"
    assert user.strip() not in ROOT_USERS, f"final user: {user!r}"
    healthcheck = effective(stages, final, "HEALTHCHECK")
    assert healthcheck
    assert "CMD" in healthcheck
    assert effective(stages, final, "EXPOSE")


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_named_stage_that_drops_privileges_gives_them_back_last(path: Path) -> None:
    for index, stage in enumerate(parse_stages(path)):
        users = [rest for kw, rest in stage.instructions if kw == "USER"]
        if users:
            assert users[-1] not in ROOT_USERS, f"stage {stage.name or index} ends as root"
            assert effective(parse_stages(path), index, "USER") == users[-1]


def test_backend_image() -> None:
    path = DEPLOY / "Dockerfile"
    stages = parse_stages(path)
    bases = {build_args(path).get(s.base.strip("${}"), s.base) for s in stages}
    assert "python:3.12-slim" in bases
    final = len(stages) - 1
    assert effective(stages, final, "USER") == "appuser"
    assert effective(stages, final, "EXPOSE") == "8000"
    assert "/health" in (effective(stages, final, "HEALTHCHECK") or "")
    volume = effective(stages, final, "VOLUME") or ""
    assert "/app/data" in volume
    assert "/app/logs" in volume
    assert '"serve"' in (effective(stages, final, "CMD") or "")
    names = [s.name for s in stages]
    assert "development" in names
    assert names[-1] == "production"


def test_frontend_image() -> None:
    stages = parse_stages(ROOT / "frontend" / "Dockerfile")
    assert stages[0].base == "node:20-alpine"
    assert stages[-1].base == "nginx:1.25-alpine"
    assert effective(stages, len(stages) - 1, "USER") == "nginx"
    assert effective(stages, len(stages) - 1, "EXPOSE") == "8080"
    copies = [rest for kw, rest in stages[-1].instructions if kw == "COPY"]
    assert any("deploy/nginx.conf" in c for c in copies)


def test_dockerignore_sends_only_what_the_images_copy() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "allow-list expected"
    for needed in ("!pyproject.toml", "!README.md", "!src/", "!frontend/", "!deploy/nginx.conf"):
        assert needed in lines
    for excluded in ("frontend/node_modules", "**/.env"):
        assert excluded in lines
