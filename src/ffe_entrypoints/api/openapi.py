"""The OpenAPI document of the API, as committed at ``deploy/openapi/backend-api.yaml``.

Regenerate after changing a route or a schema::

    python -m ffe_entrypoints.api.openapi > deploy/openapi/backend-api.yaml
    cd frontend && npm run gen:api-types   # the dashboard's types, generated from the document
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

SPEC_PATH = "/schema/openapi.json"
REGENERATE = "python -m ffe_entrypoints.api.openapi > deploy/openapi/backend-api.yaml"


def openapi_document() -> dict[str, Any]:
    """The spec of an app built from the embedded defaults (no config files, no environment)."""
    from ffe_entrypoints.api.app import create_app
    from ffe_entrypoints.container import build_container
    from ffe_entrypoints.settings import load_settings

    settings = load_settings(Path("/nonexistent-ffe-config"), environ={})
    app = create_app(build_container(settings), start_agent=False)
    # served rather than built, so the document is exactly what clients see (Litestar's encoders
    # turn pydantic defaults and Decimals into JSON); no lifespan runs, so nothing is opened.
    from litestar.testing import TestClient

    response = TestClient(app).get(SPEC_PATH)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def openapi_yaml() -> str:
    return yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    sys.stdout.write(openapi_yaml())


if __name__ == "__main__":
    main()
