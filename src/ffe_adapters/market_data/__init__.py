"""Market data sources, one package per provider, each with config.py, data.py and plugin.py."""
