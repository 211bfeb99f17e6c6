"""ffe_core: the pure domain of the Finance Feedback Engine.

Models, ports (Protocols) and services. Imports only the standard library, pydantic,
numpy/numba and itself; does no I/O at import time.
"""

__version__ = "0.1.0"
