"""ffe_entrypoints: the Litestar API, the Typer CLI and the agent runner, assembled by the container."""
