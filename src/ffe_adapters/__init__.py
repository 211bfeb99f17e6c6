"""ffe_adapters: one sub-package per external system, each registered through the pluggy hooks."""
