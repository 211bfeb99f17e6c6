"""Application services owned by the entry points (health aggregation, jobs)."""
