"""Benchmarks, run as ``sanctum bench NAME``: they measure the real code paths, never copies of them."""
