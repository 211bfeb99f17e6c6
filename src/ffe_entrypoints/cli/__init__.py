"""The ``ffe`` command line (Typer + Rich)."""
