"""Swagger UI at ``/schema/swagger``, with its assets served by ffe itself (works offline).

Litestar's Swagger plugin loads the UI from a CDN unless told otherwise; the ``swagger-ui-py``
package ships the swagger-ui-dist files, served here under ``/schema/swagger-ui/``.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from ffe_entrypoints.api.auth import PUBLIC_OPT

ASSETS_PATH = "/schema/swagger-ui"


def swagger_plugin() -> SwaggerRenderPlugin:
    """The Swagger UI page (also the default at ``/schema``), pointing at the local assets."""
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        path="/swagger",
    )


def swagger_assets_router() -> Any:
    """The swagger-ui-dist files (public, like the page that loads them). The package is found,
    not imported: importing it loads jinja2 and its own server glue, which serving files needs not."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("swagger-ui-py is not installed")
    static = Path(next(iter(spec.submodule_search_locations))) / "static"
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[str(static)],
        opt={PUBLIC_OPT: True},
        include_in_schema=False,
    )
