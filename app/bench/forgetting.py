"""``sanctum bench forgetting``: what making a removal final costs (rewriting the store without the
removed vectors, then vacuuming it), and what one Argon2id passphrase derivation costs.

A synthetic store of N chunks (random 384-d vectors, sealed text like real chunks) in a temporary
folder; one document of 10 chunks is removed and the store compacted. Prints seconds per step.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.core.crypto import Cipher
from app.core.privacy.keys import KDF, seal_key
from app.core.storage.vectors import StoredChunk, VectorStore


def run(*, chunks: int, seed: int = 0) -> dict[str, Any]:
    """Measure one compaction of a store of ``chunks`` chunks; returns the figures (seconds)."""
    rng = np.random.default_rng(seed)
    cipher = Cipher(os.urandom(32))
    figures: dict[str, Any] = {"chunks": chunks}
    with tempfile.TemporaryDirectory(prefix="sanctum-forget-bench-") as tmp:
        store = VectorStore(Path(tmp) / "store", embedder_id="bench", key_for=lambda _doc: cipher)
        per_doc = 10
        t0 = time.perf_counter()
        for start in range(0, chunks, 2000):
            part = [StoredChunk(chunk_id=f"doc{i // per_doc}:{i % per_doc}", doc_id=f"doc{i // per_doc}",
                                text="A passage of about two hundred tokens. " * 25, page=1, label=None,
                                seq=i % per_doc, start=0, end=1000, section=0)
                    for i in range(start, min(chunks, start + 2000))]
            store.add(part, rng.standard_normal((len(part), 384)).astype(np.float32))
        figures["add_s"] = time.perf_counter() - t0
        store.delete_document("doc0")
        t0 = time.perf_counter()
        store.compact()
        figures["compact_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    seal_key(os.urandom(32), "a passphrase of some length", aad=b"bench")
    figures["argon2id_s"] = time.perf_counter() - t0
    figures["kdf"] = dict(KDF)
    return figures


def table(figures: dict[str, Any]) -> str:
    return (f"store of {figures['chunks']} chunks: built in {figures['add_s']:.1f} s; removing one document "
            f"and compacting took {figures['compact_s']:.2f} s\n"
            f"one Argon2id derivation ({figures['kdf']}): {figures['argon2id_s']:.2f} s (wanted: >= 0.5 s)")
