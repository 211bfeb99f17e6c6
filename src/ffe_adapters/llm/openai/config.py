"""Options of the ``openai`` provider (``settings.adapters.openai``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ffe_adapters.llm.config import LlmOptions


class OpenAIOptions(LlmOptions):
    """OpenAI model, key (else ``OPENAI_API_KEY``), endpoint (``…/v1``) and limits.

    Default prices (USD per million tokens) and knowledge cut-offs are estimates from the
    public price list and model pages; override them under ``prices`` / ``knowledge_cutoffs``.
    """

    model: str = "gpt-4.1-mini"
    organization: str | None = None

    DEFAULT_PRICES: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "gpt-4o": {"input_per_mtok": 2.5, "output_per_mtok": 10.0},
        "gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
        "gpt-4.1": {"input_per_mtok": 2.0, "output_per_mtok": 8.0},
        "gpt-4.1-mini": {"input_per_mtok": 0.4, "output_per_mtok": 1.6},
        "gpt-4.1-nano": {"input_per_mtok": 0.1, "output_per_mtok": 0.4},
        "gpt-5": {"input_per_mtok": 1.25, "output_per_mtok": 10.0},
        "gpt-5-mini": {"input_per_mtok": 0.25, "output_per_mtok": 2.0},
        "gpt-5-nano": {"input_per_mtok": 0.05, "output_per_mtok": 0.4},
    }
    KEY_ENV_VARS: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    DEFAULT_CUTOFFS: ClassVar[Mapping[str, str]] = {
        "gpt-4o": "2023-10-01",
        "gpt-4.1": "2024-06-01",
        "gpt-5": "2024-09-30",
        "gpt-5-mini": "2024-05-31",
        "gpt-5-nano": "2024-05-31",
    }
