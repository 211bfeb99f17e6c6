"""Metrics (prometheus-client) and tracing (OpenTelemetry) adapters."""
