"""An example ffe plugin: one extra decision provider."""
