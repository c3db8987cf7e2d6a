"""Search latency at 10k and 100k chunks: Sanctum's search against raw encode + Chroma query.

The library is synthetic in its vectors (random unit vectors, so building 100k chunks takes
seconds, not the hours embedding would) but real in everything else: a real store on disk, real
documents in the registry, real chunk text. Each query is embedded for real. Sanctum's figure is
the whole ``SearchService.search`` call (embedding, vector query, registry lookups and whatever
else search does, such as decrypting passages or keyword scoring); the raw figure is the
embedder's ``encode`` plus Chroma's ``query`` alone.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.core.config import Settings
from app.core.engine import Engine
from app.core.store import StoredChunk

QUERIES = [
    "risk of fracture with vitamin D", "insulin dose adjustment", "sepsis early warning score",
    "hand hygiene compliance", "anticoagulation before surgery", "pressure ulcer prevention",
    "discharge summary medication list", "blood transfusion reaction", "paediatric fever management",
    "falls risk assessment in older adults",
]
_WORDS = ["patient", "ward", "dose", "nurse", "clinic", "fever", "insulin", "blood", "pressure", "report", "audit", "policy", "staff", "shift", "risk", "score", "surgery", "infection", "care", "plan", "review"]


def _fill(engine: Engine, chunks: int, per_doc: int = 100, seed: int = 7) -> None:
    """Register ``chunks // per_doc`` documents and store their chunks with random unit vectors."""
    rng = np.random.default_rng(seed)
    dim = engine.embedder.dimension
    store, library = engine.store, engine.library
    batch: list[StoredChunk] = []
    for d in range(chunks // per_doc):
        path = Path(f"/bench/documents/report-{d:06d}.pdf")
        doc_id = library.mark_indexing(path, content_hash=f"{d}", size=1, mtime_ns=1, embedder=store.embedder_id)
        for seq in range(per_doc):
            text = " ".join(rng.choice(_WORDS, size=60))
            batch.append(StoredChunk(f"{doc_id}:{seq}", doc_id, text, seq % 40 + 1, f"Page {seq % 40 + 1}",
                                     seq, 0, len(text), seq % 40))
        library.mark_ready(doc_id, format="pdf", title=None, page_count=40, chunk_count=per_doc)
        if len(batch) >= 5000:
            _flush(store, batch, rng, dim)
    _flush(store, batch, rng, dim)


def _flush(store: Any, batch: list[StoredChunk], rng: np.random.Generator, dim: int) -> None:
    if batch:
        vectors = rng.standard_normal((len(batch), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.add(batch, vectors)
        batch.clear()


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(1000 * statistics.median(ordered), 2),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 2)}


def run(sizes: tuple[int, ...] = (10_000, 100_000), *, repeats: int = 5, k: int = 10) -> dict[str, Any]:
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="sanctum-bench-search-") as tmp:
            engine = Engine(Path(tmp), settings=Settings(), passphrase=lambda prompt, new: "bench-passphrase")
            try:
                t0 = time.perf_counter()
                _fill(engine, size)
                build_s = time.perf_counter() - t0
                search = engine.search_service()
                model = engine.embedder._model
                collection = engine.store._collection
                search.search(QUERIES[0], k=k)  # warm both paths
                ours, raw = [], []
                for _ in range(repeats):
                    for q in QUERIES:
                        s0 = time.perf_counter()
                        vec = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)
                        collection.query(query_embeddings=vec, n_results=k)
                        raw.append(time.perf_counter() - s0)
                        s0 = time.perf_counter()
                        search.search(q, k=k)
                        ours.append(time.perf_counter() - s0)
            finally:
                engine.close()
        o, r = _percentiles(ours), _percentiles(raw)
        results.append({"chunks": size, "build_s": round(build_s, 1), "sanctum": o, "raw": r,
                        "ratio_p95": round(o["p95_ms"] / r["p95_ms"], 3)})
    return {"benchmark": "search", "k": k, "queries": len(QUERIES) * repeats, "sizes": results}


def table(result: dict[str, Any]) -> str:
    lines = [f"search: top-{result['k']}, {result['queries']} queries per size (query embedding included)",
             f"{'chunks':>8}{'raw p50':>10}{'raw p95':>10}{'Sanctum p50':>13}{'Sanctum p95':>13}{'p95 ratio':>11}"]
    for row in result["sizes"]:
        r, o = row["raw"], row["sanctum"]
        lines.append(f"{row['chunks']:>8}{r['p50_ms']:>8.1f}ms{r['p95_ms']:>8.1f}ms{o['p50_ms']:>11.1f}ms"
                     f"{o['p95_ms']:>11.1f}ms{row['ratio_p95']:>11.3f}")
    return "\n".join(lines)
