"""Benchmarks, run by hand (not tests): see bench/store.py."""
