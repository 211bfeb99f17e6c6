"""Options of the ``anthropic`` provider (``settings.adapters.anthropic``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ffe_adapters.llm.config import LlmOptions


class AnthropicOptions(LlmOptions):
    """Claude model, key (else ``ANTHROPIC_API_KEY``), endpoint and limits.

    Default prices (USD per million tokens) and knowledge cut-offs are estimates from the
    public price list and model cards; override them under ``prices`` / ``knowledge_cutoffs``.
    """

    model: str = "claude-sonnet-4-6"

    DEFAULT_PRICES: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "claude-opus-4": {"input_per_mtok": 15.0, "output_per_mtok": 75.0},
        "claude-opus-4-5": {"input_per_mtok": 5.0, "output_per_mtok": 25.0},
        "claude-sonnet-4": {"input_per_mtok": 3.0, "output_per_mtok": 15.0},
        "claude-haiku-4-5": {"input_per_mtok": 1.0, "output_per_mtok": 5.0},
        "claude-3-5-haiku": {"input_per_mtok": 0.8, "output_per_mtok": 4.0},
    }
    KEY_ENV_VARS: ClassVar[tuple[str, ...]] = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    DEFAULT_CUTOFFS: ClassVar[Mapping[str, str]] = {
        "claude-opus-4": "2025-03-31",
        "claude-sonnet-4": "2025-03-31",
        "claude-sonnet-4-5": "2025-07-31",
        "claude-haiku-4-5": "2025-02-28",
        "claude-opus-4-5": "2025-08-31",
        "claude-3-5-haiku": "2024-07-31",
    }
