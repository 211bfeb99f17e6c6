"""Seeded synthetic bars (GBM with regime switches) for any instrument, fully offline."""
