"""Swagger UI is served with its own assets: no request leaves for a CDN (it works offline)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import API_KEY, api_settings, serving


class _Links(HTMLParser):
    """Every ``src`` and ``href`` of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def _urls(page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return parser.urls


async def test_swagger_page_references_no_external_host(
    client: AsyncTestClient[Litestar],
) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200, page.text[:300]
    urls = _urls(page.text)
    assert len(urls) >= 4, urls  # stylesheet, favicon, bundle, preset
    external = [u for u in urls if re.match(r"^(https?:)?//", u)]
    assert external == [], f"Swagger UI loads from another host: {external}"
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert "SwaggerUIBundle(" in page.text


async def test_with_an_api_key_the_page_needs_it_and_its_assets_do_not(tmp_path: Path) -> None:
    """The page embeds the spec, so it is guarded like ``/schema``; the assets are static files."""
    settings = api_settings(tmp_path, {"FINANCE_FEEDBACK_API_KEY": API_KEY})
    async with serving(settings) as (client, _):
        assert (await client.get("/schema/swagger")).status_code == 401
        page = await client.get("/schema/swagger", headers={"X-API-Key": API_KEY})
        assert page.status_code == 200
        for url in _urls(page.text):
            assert (await client.get(url)).status_code == 200, url
