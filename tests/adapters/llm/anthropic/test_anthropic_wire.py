"""What the anthropic adapter sends: a forced call of the answer tool, no SDK-side retries."""

from __future__ import annotations

from ffe_core.prompts import ANSWER_JSON_SCHEMA, ANSWER_TOOL_NAME


async def test_request_forces_the_answer_tool(fake, build, context, wires) -> None:
    wire = wires["anthropic"]
    fake.reply(wire.body("ok"))

    await build(wire, max_tokens=512).vote(context)

    (seen,) = fake.requests
    body = seen.body
    assert body["model"] == wire.model
    assert body["max_tokens"] == 512
    assert body["tool_choice"] == {"type": "tool", "name": ANSWER_TOOL_NAME}
    (tool,) = body["tools"]
    assert tool["input_schema"] == ANSWER_JSON_SCHEMA
    assert "disciplined trading analyst" in body["system"]
    assert any("test-key-not-real" in value for value in seen.headers.values())


async def test_overloaded_529_is_retried(fake, build, context, wires) -> None:
    wire = wires["anthropic"]
    overloaded = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    fake.reply(overloaded, status=529, headers={"retry-after": "0"})
    fake.reply(wire.body("ok"))

    vote = await build(wire).vote(context)

    assert not vote.abstained, vote.abstain_reason
    assert len(fake.requests) == 2
