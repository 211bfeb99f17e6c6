"""Local models through the official ``ollama`` SDK (``format`` set to the answer schema)."""
