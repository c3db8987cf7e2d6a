"""``sanctum bench keyword-index``: build, save, load and query a large keyword index.

A synthetic library (Zipf-distributed vocabulary, like real text) of N chunks, indexed with the
real :class:`app.core.storage.keywords.KeywordIndex` and a real AES-GCM/HMAC cipher (a random key, never
stored). Prints how long each step takes and the file size, so "fast enough for 100k chunks" is a
measured figure, not a hope.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.core.crypto import Cipher
from app.core.storage.keywords import KeywordIndex


def run(*, chunks: int, words_per_chunk: int = 150, vocabulary: int = 50_000, queries: int = 200,
        seed: int = 0) -> dict[str, Any]:
    """Measure one index of ``chunks`` chunks; returns the figures (seconds, bytes)."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"t{i}x" for i in range(vocabulary)])
    ranks = np.arange(1, vocabulary + 1)
    p = 1.0 / ranks
    p /= p.sum()
    cipher = Cipher(os.urandom(32))
    figures: dict[str, Any] = {"chunks": chunks, "words_per_chunk": words_per_chunk, "vocabulary": vocabulary}
    with tempfile.TemporaryDirectory(prefix="sanctum-kw-bench-") as tmp:
        path = Path(tmp) / "keywords.bin"
        index = KeywordIndex(path, cipher)
        per_doc = 10
        t0 = time.perf_counter()
        for d in range(0, chunks, per_doc):
            drawn = rng.choice(vocab, size=(min(per_doc, chunks - d), words_per_chunk), p=p)
            index.replace_document(f"doc{d}", [(f"doc{d}:{i}", " ".join(row)) for i, row in enumerate(drawn)])
        figures["build_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        index.save()
        figures["save_s"] = time.perf_counter() - t0
        figures["file_bytes"] = path.stat().st_size
        t0 = time.perf_counter()
        loaded = KeywordIndex(path, cipher)
        figures["load_s"] = time.perf_counter() - t0
        qs = [" ".join(rng.choice(vocab[:5000], size=6)) for _ in range(queries)]
        t0 = time.perf_counter()
        loaded.search(qs[0], k=10)
        figures["first_query_s"] = time.perf_counter() - t0  # builds the column view
        times = []
        for q in qs[1:]:
            t1 = time.perf_counter()
            loaded.search(q, k=100)
            times.append(time.perf_counter() - t1)
        times.sort()
        figures["query_p50_ms"] = 1000 * times[len(times) // 2]
        figures["query_p95_ms"] = 1000 * times[int(0.95 * (len(times) - 1))]
        t0 = time.perf_counter()
        loaded.replace_document("doc0", [("doc0:0", "a replaced chunk t1x t2x")])
        loaded.search(qs[1], k=10)
        figures["update_then_query_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        loaded.save()
        figures["resave_s"] = time.perf_counter() - t0
    return figures


def table(f: dict[str, Any]) -> str:
    return "\n".join([
        f"keyword index: {f['chunks']:,} chunks x {f['words_per_chunk']} words, {f['vocabulary']:,}-word vocabulary",
        f"  build (tokenise, stem, hash)   {f['build_s']:8.2f} s",
        f"  save (serialise, encrypt)      {f['save_s']:8.2f} s   file {f['file_bytes'] / 1e6:.1f} MB",
        f"  load (decrypt, parse)          {f['load_s']:8.2f} s",
        f"  first query (column view)      {f['first_query_s']:8.2f} s",
        f"  query p50 / p95                {f['query_p50_ms']:8.1f} / {f['query_p95_ms']:.1f} ms",
        f"  replace one doc, then query    {f['update_then_query_s']:8.2f} s",
        f"  save again                     {f['resave_s']:8.2f} s",
    ])
