"""Benchmarks that reproduce the LSGAN paper's experiments (see docs/RESULTS.md)."""
