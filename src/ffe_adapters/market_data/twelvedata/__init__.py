"""Twelve Data (api.twelvedata.com): equities, FX and crypto time series and quotes."""
