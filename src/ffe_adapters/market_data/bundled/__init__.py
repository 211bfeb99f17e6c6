"""Sample hourly data shipped with ffe (BTC-USD, ETH-USD, EUR-USD, AAPL), replayed as if live."""
