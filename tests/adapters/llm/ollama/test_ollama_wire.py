"""What the ollama adapter sends (``format`` = answer schema) and where it finds the server."""

from __future__ import annotations

from ffe_adapters.llm.ollama.config import DEFAULT_HOST, OllamaOptions
from ffe_core.prompts import ANSWER_JSON_SCHEMA


async def test_request_sets_format_to_the_answer_schema(fake, build, context, wires) -> None:
    wire = wires["ollama"]
    fake.reply(wire.body("ok"))

    vote = await build(wire, max_tokens=256, prices={}).vote(context)

    (seen,) = fake.requests
    body = seen.body
    assert body["format"] == ANSWER_JSON_SCHEMA
    assert body["stream"] is False
    assert body["options"]["num_predict"] == 256
    assert vote.tokens_out == wire.json("ok")["eval_count"]
    assert vote.cost_usd == 0.0  # local models are free unless priced in config


async def test_host_comes_from_options_then_env_then_default(monkeypatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    assert OllamaOptions().resolved_host() == DEFAULT_HOST
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu-box:11434")
    assert OllamaOptions().resolved_host() == "http://gpu-box:11434"
    assert OllamaOptions(host="http://other:1").resolved_host() == "http://other:1"


async def test_host_from_environment_is_used_for_calls(
    fake, build, context, monkeypatch, wires
) -> None:
    wire = wires["ollama"]
    monkeypatch.setenv("OLLAMA_HOST", fake.url)
    fake.reply(wire.body("ok"))

    vote = await build(wire, host=None).vote(context)

    assert not vote.abstained, vote.abstain_reason
    assert len(fake.requests) == 1
