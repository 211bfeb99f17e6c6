"""Domain models: instruments, market data, decisions, orders, portfolio."""
