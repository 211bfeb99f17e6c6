"""Notifiers and approval channels: where people hear about decisions and answer approvals."""
