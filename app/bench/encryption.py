"""What encryption at rest costs the vector store, in one run on the same chunks and vectors:
Sanctum's VectorStore sealing text with AES-GCM, the same VectorStore with a pass-through cipher
(so the difference is the encryption alone), and raw Chroma for reference.

Usage: sanctum bench encryption [--chunks N]  (or python -m app.bench.encryption [N])
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(chunks: int | None = None) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from app.core.crypto import Cipher
    from app.core.storage.vectors import StoredChunk, VectorStore

    n = chunks or (int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"Patient handover note {i}. " * 30 for i in range(n)]
    chunks = [StoredChunk(f"d{i % 50}:{i}", f"d{i % 50}", t, 1, "Page 1", i, 0, len(t), 0) for i, t in enumerate(texts)]
    cipher = Cipher(os.urandom(32))

    class PassThrough(Cipher):
        def encrypt_text(self, text: str, *, aad: bytes = b"") -> str:
            return text

        def decrypt_text(self, token: str, *, aad: bytes = b"") -> str:
            return token

    plain = PassThrough(os.urandom(32))
    queries = vectors[:200]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        raw = chromadb.PersistentClient(str(Path(tmp) / "raw"), settings=ChromaSettings(anonymized_telemetry=False))
        col = raw.get_or_create_collection("chunks", configuration={"hnsw": {"space": "cosine"}},
                                           embedding_function=None)
        for s in range(0, n, 2000):
            col.upsert(ids=[c.chunk_id for c in chunks[s:s + 2000]], embeddings=vectors[s:s + 2000],
                       documents=texts[s:s + 2000], metadatas=[{"doc_id": c.doc_id} for c in chunks[s:s + 2000]])
        raw_add = time.perf_counter() - t0
        t0 = time.perf_counter()
        for q in queries:
            col.query(query_embeddings=[q], n_results=10, include=["documents", "metadatas", "distances"])
        raw_query = (time.perf_counter() - t0) / len(queries)

        timings = {}
        for name, c in (("pass-through", plain), ("encrypted", cipher)):
            t0 = time.perf_counter()
            store = VectorStore(Path(tmp) / name, embedder_id="bench/384", key_for=lambda doc_id, c=c: c)
            store.add(chunks, vectors)
            added = time.perf_counter() - t0
            t0 = time.perf_counter()
            for q in queries:
                store.query(q, k=10)
            timings[name] = (added, (time.perf_counter() - t0) / len(queries))
    (p_add, p_q), (e_add, e_q) = timings["pass-through"], timings["encrypted"]
    print(f"{n} chunks of {len(texts[0])} chars, 384-dim vectors")
    print(f"add:   raw Chroma {raw_add:.2f} s | VectorStore pass-through {p_add:.2f} s | encrypted {e_add:.2f} s "
          f"| encryption ratio {e_add / p_add:.2f}")
    print(f"query: raw Chroma {raw_query * 1e3:.2f} ms | VectorStore pass-through {p_q * 1e3:.2f} ms | "
          f"encrypted {e_q * 1e3:.2f} ms | encryption ratio {e_q / p_q:.2f}")


if __name__ == "__main__":
    main()
