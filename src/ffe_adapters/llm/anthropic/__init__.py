"""Claude through the official ``anthropic`` SDK (forced tool use for structured output)."""
