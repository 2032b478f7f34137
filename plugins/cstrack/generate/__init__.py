"""Generators of synthetic demo and test data (deterministic for a given seed)."""
