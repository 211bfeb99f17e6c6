"""Gemini through the official ``google-genai`` SDK (JSON response schema)."""
