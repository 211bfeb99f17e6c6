"""Bars from local CSV and Parquet files (the backtesting.py CSV layout loads as-is)."""
