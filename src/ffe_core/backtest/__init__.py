"""Backtesting: a compiled fill simulator with backtesting.py's semantics, strategies,
statistics, parameter search, walk-forward analysis and reports.

Import from the submodules (``simulator``, ``strategies``, ``stats`` ...); this package module
stays empty so importing one part does not compile the others' kernels.
"""
