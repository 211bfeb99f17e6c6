"""OpenAI votes through Chat Completions with ``response_format`` set to the answer's strict
JSON schema; the content is validated by the shared machinery, so a bad answer can be fed back.
"""

from __future__ import annotations

from typing import Any

import openai

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.llm.base import (
    Completion,
    LlmProvider,
    make_provider,
    raise_error_in_body,
    translate_sdk_error,
)
from ffe_adapters.llm.openai.config import OpenAIOptions
from ffe_core.prompts import ANSWER_DESCRIPTION, ANSWER_JSON_SCHEMA, Prompt

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "trading_decision",
        "description": ANSWER_DESCRIPTION,
        "schema": ANSWER_JSON_SCHEMA,
        "strict": True,
    },
}


class OpenAIBackend:
    """One Chat Completions call asking for the answer schema."""

    def __init__(self, options: OpenAIOptions) -> None:
        self.options = options
        self._client: openai.AsyncOpenAI | None = None

    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            key = self.options.api_key
            self._client = openai.AsyncOpenAI(
                api_key=key.get_secret_value() if key else None,
                organization=self.options.organization,
                base_url=self.options.base_url,
                timeout=self.options.timeout_seconds + 1.0,
                max_retries=0,  # LlmProvider retries, honouring retry-after
            )
        return self._client

    async def complete(self, prompt: Prompt) -> Completion:
        params: dict[str, Any] = {
            "model": self.options.model,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            "response_format": RESPONSE_FORMAT,
            "max_completion_tokens": self.options.max_tokens,
        }
        if self.options.temperature is not None:
            params["temperature"] = self.options.temperature
        response = await self.client().chat.completions.create(**params)
        raise_error_in_body(response.to_dict())
        usage = response.usage
        tokens_in = usage.prompt_tokens if usage else 0
        tokens_out = usage.completion_tokens if usage else 0
        if not response.choices:
            return Completion(None, tokens_in, tokens_out, stop_reason="no choices")
        choice = response.choices[0]
        refusal = choice.message.refusal
        if refusal is None and choice.finish_reason == "content_filter":
            refusal = "finish_reason=content_filter"
        return Completion(
            output=choice.message.content,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            refusal=refusal,
            truncated=choice.finish_reason == "length",
            stop_reason=choice.finish_reason,
        )

    def translate_error(self, exc: Exception) -> Exception:
        return translate_sdk_error(openai, exc)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def create_provider(ctx: AdapterContext) -> LlmProvider:
    """Factory: options from ``ctx.options``; the SDK client is made on first use."""
    return make_provider(ctx, OpenAIOptions, OpenAIBackend)
