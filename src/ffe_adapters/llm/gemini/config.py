"""Options of the ``gemini`` provider (``settings.adapters.gemini``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ffe_adapters.llm.config import LlmOptions


class GeminiOptions(LlmOptions):
    """Gemini model, key (else ``GEMINI_API_KEY`` / ``GOOGLE_API_KEY``), endpoint and limits.

    Default prices (USD per million tokens, standard context) and knowledge cut-offs are
    estimates from the public price list and model pages; override them in config.
    """

    model: str = "gemini-2.5-flash"
    api_version: str | None = None  # None: the SDK's default (v1beta)

    DEFAULT_PRICES: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "gemini-2.0-flash": {"input_per_mtok": 0.1, "output_per_mtok": 0.4},
        "gemini-2.5-flash": {"input_per_mtok": 0.3, "output_per_mtok": 2.5},
        "gemini-2.5-flash-lite": {"input_per_mtok": 0.1, "output_per_mtok": 0.4},
        "gemini-2.5-pro": {"input_per_mtok": 1.25, "output_per_mtok": 10.0},
    }
    KEY_ENV_VARS: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    DEFAULT_CUTOFFS: ClassVar[Mapping[str, str]] = {
        "gemini-2.0-flash": "2024-08-31",
        "gemini-2.5": "2025-01-31",
    }
