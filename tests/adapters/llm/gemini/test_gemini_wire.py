"""What the gemini adapter sends (JSON mime type and schema) and how it reads RetryInfo."""

from __future__ import annotations

import time

from ffe_core.prompts import ANSWER_JSON_SCHEMA


async def test_request_asks_for_json_with_the_answer_schema(fake, build, context, wires) -> None:
    wire = wires["gemini"]
    fake.reply(wire.body("ok"))

    await build(wire, max_tokens=400).vote(context)

    (seen,) = fake.requests
    config = seen.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == ANSWER_JSON_SCHEMA
    assert config["maxOutputTokens"] == 400
    assert "disciplined trading analyst" in str(seen.body["systemInstruction"])
    assert seen.headers.get("x-goog-api-key") == "test-key-not-real"


async def test_quota_error_without_header_honours_retry_info(fake, build, context, wires) -> None:
    wire = wires["gemini"]
    fake.reply(wire.body("error_429"), status=429)  # documented body: RetryInfo retryDelay 1s
    fake.reply(wire.body("ok"))

    started = time.perf_counter()
    vote = await build(wire).vote(context)

    assert not vote.abstained, vote.abstain_reason
    assert len(fake.requests) == 2
    assert time.perf_counter() - started >= 1.0
