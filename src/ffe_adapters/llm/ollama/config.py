"""Options of the ``ollama`` provider (``settings.adapters.ollama``)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import ClassVar

from pydantic import Field

from ffe_adapters.llm.config import LlmOptions
from ffe_core.config import url_passwords

DEFAULT_HOST = "http://localhost:11434"


class OllamaOptions(LlmOptions):
    """Local model name, server host and limits. Local models cost nothing by default.

    The host is ``host`` (or ``base_url``), else the ``OLLAMA_HOST`` environment variable,
    else ``http://localhost:11434``.
    """

    model: str = "llama3.2"
    host: str | None = None
    timeout_seconds: float = Field(default=120.0, gt=0)  # local models can be slow to load
    requests_per_minute: float | None = Field(default=None, gt=0)
    keep_alive: str | None = None

    KEY_ENV_VARS: ClassVar[tuple[str, ...]] = ("OLLAMA_API_KEY",)
    KEY_REQUIRED: ClassVar[bool] = False  # a local server needs none
    DEFAULT_CUTOFFS: ClassVar[Mapping[str, str]] = {
        "llama3.1": "2023-12-31",
        "llama3.2": "2023-12-31",
        "llama3.3": "2023-12-31",
        "qwen2.5": "2024-06-30",
    }

    def resolved_host(self) -> str:
        return self.host or self.base_url or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST

    def secret_values(self) -> Iterator[str]:
        yield from super().secret_values()
        yield from url_passwords(self.resolved_host())
