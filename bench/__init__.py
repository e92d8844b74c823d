"""Benchmarks of the real stack (`make bench`)."""
