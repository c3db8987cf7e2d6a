"""``sanctum bench search``: query latency at 10k and 100k chunks, dense, keyword and hybrid.

The library is synthetic in its vectors (random unit vectors put in through the store's own
``add``, so building 100k chunks takes a minute, not the hours embedding would on two cores) but
real in everything else: a real store on disk, real documents in the registry, and real text in the
keyword index (SciFact's abstracts, cut into chunks and cycled; made-up sentences if SciFact is
absent). The queries are SciFact's claims. Sanctum's figure is the whole ``SearchService.search``
call (embedding the query, vector query, keyword scoring and fusion, registry lookups); beside it, in
the same run, the raw libraries: ``SentenceTransformer.encode`` of the query plus Chroma's
``collection.query``, and Chroma's ``query`` alone.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from app.core.answer.service import SearchService
from app.core.config import Settings
from app.core.engine import Engine
from app.core.storage.vectors import StoredChunk

QUERIES = [
    "risk of fracture with vitamin D", "insulin dose adjustment", "sepsis early warning score",
    "hand hygiene compliance", "anticoagulation before surgery", "pressure ulcer prevention",
    "discharge summary medication list", "blood transfusion reaction", "paediatric fever management",
    "falls risk assessment in older adults",
]
_WORDS = [
    "patient", "ward", "dose", "nurse", "clinic", "fever", "insulin", "blood", "pressure", "report", "audit", "policy",
    "staff", "shift", "risk", "score", "surgery", "infection", "care", "plan", "review"
]


def _texts(scifact: Path | None, rng: np.random.Generator) -> Iterator[str]:
    """Chunk-sized passages (about 60 words) forever: SciFact's abstracts cycled, else made up."""
    passages: list[str] = []
    if scifact is not None and (scifact / "corpus.jsonl").is_file():
        from app.bench.beir import _jsonl

        for _, obj in _jsonl(scifact / "corpus.jsonl"):
            words = f"{obj.get('title') or ''} {obj.get('text') or ''}".split()
            passages += [" ".join(words[i : i + 60]) for i in range(0, len(words), 60) if len(words[i : i + 60]) > 10]
    while True:
        if passages:
            yield from passages
        else:
            yield " ".join(rng.choice(_WORDS, size=60))


def queries(scifact: Path | None, count: int = 50) -> list[str]:
    """SciFact's claims (the first ``count``), else a fixed clinical list."""
    if scifact is not None and (scifact / "queries.jsonl").is_file():
        from app.bench.beir import _jsonl

        return [str(obj["text"]) for _, obj in _jsonl(scifact / "queries.jsonl")][:count]
    return QUERIES


def _fill(engine: Engine, chunks: int, *, scifact: Path | None, per_doc: int = 100, seed: int = 7) -> None:
    """Register ``chunks // per_doc`` documents; store their chunks with random unit vectors and
    index their text in the keyword index."""
    rng = np.random.default_rng(seed)
    dim = engine.embedder.dimension
    store, library, keywords = engine.store, engine.library, engine.keywords
    texts = _texts(scifact, rng)
    batch: list[StoredChunk] = []
    for d in range(chunks // per_doc):
        path = Path(f"/bench/documents/report-{d:06d}.pdf")
        doc_id = library.mark_indexing(path, content_hash=f"{d}", size=1, mtime_ns=1, embedder=store.embedder_id)
        mine = []
        for seq in range(per_doc):
            text = next(texts)
            mine.append(StoredChunk(f"{doc_id}:{seq}", doc_id, text, seq % 40 + 1, f"Page {seq % 40 + 1}",
                                    seq, 0, len(text), seq % 40))
        batch += mine
        keywords.replace_document(doc_id, [(c.chunk_id, c.text) for c in mine], header=path.stem, version=f"{d}")
        library.mark_ready(doc_id, format="pdf", title=None, page_count=40, chunk_count=per_doc)
        if len(batch) >= 5000:
            _flush(store, batch, rng, dim)
    _flush(store, batch, rng, dim)
    keywords.save()


def _flush(store: Any, batch: list[StoredChunk], rng: np.random.Generator, dim: int) -> None:
    if batch:
        vectors = rng.standard_normal((len(batch), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.add(batch, vectors)
        batch.clear()


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(1000 * statistics.median(ordered), 2),
            "p95_ms": round(1000 * ordered[math.ceil(0.95 * len(ordered)) - 1], 2)}  # nearest rank


MODES = ("dense", "keyword", "hybrid")


def run(sizes: tuple[int, ...] = (10_000, 100_000), *, repeats: int = 2, k: int = 10, scifact: Path | None = None,
        passphrase: Any = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    qs = queries(scifact)
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="sanctum-bench-search-") as tmp:
            engine = Engine(Path(tmp), settings=Settings(), passphrase=passphrase)
            try:
                log(f"building a library of {size} chunks …")
                t0 = time.perf_counter()
                _fill(engine, size, scifact=scifact)
                build_s = time.perf_counter() - t0
                services = {mode: SearchService(embedder=engine.embedder, store=engine.store, library=engine.library,
                                                keywords=None if mode == "dense" else engine.keywords, mode=mode)
                            for mode in MODES}
                model = engine.embedder._model  # the raw libraries: the same SentenceTransformer and collection
                collection = engine.store._collection
                for service in services.values():
                    service.search(qs[0], k=k)  # warm every path (the keyword index's column view, caches)
                samples: dict[str, list[float]] = {name: [] for name in ("chroma", "raw", *MODES)}
                log(f"timing {len(qs) * repeats} queries per row …")
                for _ in range(repeats):
                    for q in qs:
                        s0 = time.perf_counter()
                        vec = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)
                        s1 = time.perf_counter()
                        collection.query(query_embeddings=vec, n_results=k)
                        s2 = time.perf_counter()
                        samples["raw"].append(s2 - s0)
                        samples["chroma"].append(s2 - s1)
                        for mode, service in services.items():
                            s0 = time.perf_counter()
                            service.search(q, k=k)
                            samples[mode].append(time.perf_counter() - s0)
            finally:
                engine.close()
        rows = {name: _percentiles(values) for name, values in samples.items()}
        results.append({"chunks": size, "build_s": round(build_s, 1), "rows": rows})
    return {"benchmark": "search", "k": k, "queries": len(qs) * repeats,
            "text": "SciFact abstracts" if scifact and (scifact / "corpus.jsonl").is_file() else "synthetic",
            "sizes": results}


_LABELS = {"chroma": "raw Chroma query (vector given)", "raw": "raw encode + Chroma query",
           "dense": "Sanctum dense", "keyword": "Sanctum keyword", "hybrid": "Sanctum hybrid"}


def table(result: dict[str, Any]) -> str:
    lines = [f"search: top-{result['k']}, {result['queries']} queries per row ({result['text']} text, random vectors)"]
    for size in result["sizes"]:
        raw = size["rows"]["raw"]["p95_ms"]
        lines.append(f"{size['chunks']:,} chunks (built in {size['build_s']} s)"
                     f"{'p50':>9}{'p95':>10}{'p95 vs raw':>12}")
        for name, row in size["rows"].items():
            lines.append(f"  {_LABELS[name]:34}{row['p50_ms']:>7.1f}ms{row['p95_ms']:>8.1f}ms"
                         f"{row['p95_ms'] / raw:>11.2f}x")
    return "\n".join(lines)
