"""What the openai adapter sends: Chat Completions with the strict answer JSON schema."""

from __future__ import annotations

from ffe_core.prompts import ANSWER_JSON_SCHEMA


async def test_request_asks_for_the_strict_json_schema(fake, build, context, wires) -> None:
    wire = wires["openai"]
    fake.reply(wire.body("ok"))

    await build(wire, max_tokens=300, temperature=0.1).vote(context)

    (seen,) = fake.requests
    body = seen.body
    assert body["model"] == wire.model
    assert body["max_completion_tokens"] == 300
    assert body["temperature"] == 0.1
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == ANSWER_JSON_SCHEMA
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert seen.headers.get("authorization") == "Bearer test-key-not-real"


async def test_bad_request_is_not_retried(fake, build, context, wires) -> None:
    wire = wires["openai"]
    error = (
        b'{"error":{"message":"Invalid schema for response_format","type":'
        b'"invalid_request_error","param":"response_format","code":null}}'
    )
    fake.reply(error, status=400)

    vote = await build(wire).vote(context)

    assert vote.abstained
    assert "HTTP 400" in (vote.abstain_reason or "")
    assert len(fake.requests) == 1
