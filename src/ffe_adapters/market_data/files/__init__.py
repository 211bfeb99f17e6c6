"""Bars from local files: CSV, Parquet, Feather/Arrow and freqtrade/ccxt JSON candles (the one bar loader)."""
