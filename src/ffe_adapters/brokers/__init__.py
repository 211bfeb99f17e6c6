"""Broker adapters: one package per venue, each with config, data, execution, factories, plugin."""
