"""Alpha Vantage (www.alphavantage.co): equities, FX and crypto candles and quotes."""
