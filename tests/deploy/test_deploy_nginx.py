"""deploy/nginx.conf: proxies the backend routes, falls back to index.html, caches hashed
assets, and passes `nginx -t` when nginx is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_support import NGINX_CONF

TEXT = NGINX_CONF.read_text(encoding="utf-8")


def _location_body(prefix: str) -> str:
    match = re.search(r"location\s+" + re.escape(prefix) + r"\s*\{(.*?)\n    \}", TEXT, re.S)
    assert match, f"no location {prefix}"
    return match.group(1)


def test_listens_unprivileged_port() -> None:
    assert re.search(r"^\s*listen 8080\b", TEXT, re.MULTILINE)


@pytest.mark.parametrize("location", ["/api/", "= /health", "= /metrics", "/webhook/"])
def test_backend_routes_are_proxied(location: str) -> None:
    assert "proxy_pass $backend" in _location_body(location)
    assert "set $backend http://backend:8000;" in TEXT


def test_spa_fallback_and_caching() -> None:
    assert "try_files $uri $uri/ /index.html" in _location_body("/")
    assets = _location_body("/assets/")
    assert "immutable" in assets
    assert "max-age=31536000" in assets
    assert "no-cache" in _location_body("= /index.html")
    assert re.search(r"^\s*gzip on;", TEXT, re.MULTILINE)


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx-light); syntax not checked")
    mime = Path("/etc/nginx/mime.types")
    wrapper = tmp_path / "nginx.conf"
    temp = {k: tmp_path / k for k in ("client", "proxy", "fastcgi", "uwsgi", "scgi")}
    wrapper.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        "http {\n"
        + (f"  include {mime};\n" if mime.exists() else "")
        + f"  access_log {tmp_path / 'access.log'};\n"
        f"  client_body_temp_path {temp['client']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n"
        f"  include {NGINX_CONF};\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(wrapper)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
