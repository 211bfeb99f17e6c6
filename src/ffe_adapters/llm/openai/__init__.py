"""OpenAI models through the official ``openai`` SDK (Chat Completions with a strict JSON schema)."""
