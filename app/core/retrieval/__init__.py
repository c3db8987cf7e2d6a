"""Hybrid retrieval: dense vectors and BM25 keywords, fused."""
