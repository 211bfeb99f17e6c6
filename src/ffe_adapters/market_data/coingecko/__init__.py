"""CoinGecko (api.coingecko.com): crypto OHLC and spot prices."""
