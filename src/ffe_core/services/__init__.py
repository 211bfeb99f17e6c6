"""Core services: ensemble, risk, learning, approvals, agent loop."""
