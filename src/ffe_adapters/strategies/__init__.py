"""The built-in backtest strategies, registered through the ``ffe_strategies`` hook."""
