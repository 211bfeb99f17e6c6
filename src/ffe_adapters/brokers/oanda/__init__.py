"""OANDA v20 through oandapyV20 (practice and live): broker and candles."""
