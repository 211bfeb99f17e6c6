"""Claude votes through a forced tool call whose input schema is the answer schema."""

from __future__ import annotations

from typing import Any

import anthropic

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.llm.anthropic.config import AnthropicOptions
from ffe_adapters.llm.base import (
    Completion,
    LlmProvider,
    make_provider,
    raise_error_in_body,
    translate_sdk_error,
)
from ffe_core.prompts import (
    ANSWER_DESCRIPTION,
    ANSWER_JSON_SCHEMA,
    ANSWER_TOOL_NAME,
    Prompt,
)

OVERLOADED = 529  # Anthropic's "overloaded_error"


class AnthropicBackend:
    """One Messages API call with ``tool_choice`` forcing the answer tool."""

    def __init__(self, options: AnthropicOptions) -> None:
        self.options = options
        self._client: anthropic.AsyncAnthropic | None = None

    def client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            key = self.options.api_key
            self._client = anthropic.AsyncAnthropic(
                api_key=key.get_secret_value() if key else None,
                base_url=self.options.base_url,
                timeout=self.options.timeout_seconds + 1.0,
                max_retries=0,  # LlmProvider retries, honouring retry-after
            )
        return self._client

    async def complete(self, prompt: Prompt) -> Completion:
        extra: dict[str, Any] = {}
        if self.options.temperature is not None:
            extra["temperature"] = self.options.temperature
        message = await self.client().messages.create(
            model=self.options.model,
            max_tokens=self.options.max_tokens,
            system=prompt.system,
            messages=[{"role": "user", "content": prompt.user}],
            tools=[
                {
                    "name": ANSWER_TOOL_NAME,
                    "description": ANSWER_DESCRIPTION,
                    "input_schema": ANSWER_JSON_SCHEMA,
                }
            ],
            tool_choice={"type": "tool", "name": ANSWER_TOOL_NAME},
            **extra,
        )
        raise_error_in_body(message.to_dict())
        output: dict[str, Any] | str | None = None
        texts: list[str] = []
        for block in message.content:
            if block.type == "tool_use" and block.name == ANSWER_TOOL_NAME:
                output = block.input if isinstance(block.input, dict) else str(block.input)
            elif block.type == "text":
                texts.append(block.text)
        refusal = None
        if message.stop_reason == "refusal":
            refusal = " ".join(texts) or "stop_reason=refusal"
        return Completion(
            output=output,
            tokens_in=message.usage.input_tokens,
            tokens_out=message.usage.output_tokens,
            refusal=refusal,
            truncated=message.stop_reason == "max_tokens",
            stop_reason=message.stop_reason,
        )

    def translate_error(self, exc: Exception) -> Exception:
        detail = (
            exc.api_message or exc.message if isinstance(exc, anthropic.APIStatusError) else None
        )
        return translate_sdk_error(anthropic, exc, detail=detail, retryable=frozenset({OVERLOADED}))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def create_provider(ctx: AdapterContext) -> LlmProvider:
    """Factory: options from ``ctx.options``; the SDK client is made on first use."""
    return make_provider(ctx, AnthropicOptions, AnthropicBackend)
