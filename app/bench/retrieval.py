"""``sanctum bench retrieval``: retrieval quality on a BEIR dataset, through the normal pipeline.

The corpus is ingested with the same code as user files (chunking, contextual header, embedding,
Chroma, keyword index: :func:`app.core.ingest.textitems.ingest_texts`); each query is answered by the
same :class:`app.core.retrieval.hybrid.Retriever` that ``sanctum search`` and ``ask`` use. A chunk stands
for its document; a document ranks where its best chunk ranks.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TextIO

from app.bench.beir import BeirSet, mrr_at, ndcg_at, recall_at
from app.core.engine import Engine
from app.core.ingest.textitems import ingest_texts
from app.core.retrieval.hybrid import FusionParams, Retriever

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
#: A baseline row: plain reciprocal rank fusion (k=60, equal weights) of the same two retrievers.
RRF = "rrf"


def ingest_corpus(engine: Engine, beir: BeirSet, *, log: TextIO = sys.stderr) -> dict[str, str]:
    """Put the corpus in the engine's library (documents already there are kept); doc_id -> BEIR id."""
    service = engine.ingest_service()
    started = time.perf_counter()
    live = log.isatty()

    def progress(done: int) -> None:
        if live:
            log.write(f"\ringesting {beir.name}: {done} documents, {time.perf_counter() - started:.0f} s")
            log.flush()

    keys = ingest_texts(service, beir.corpus(), source=f"beir/{beir.name}", progress=progress)
    if live:
        log.write("\n")
    return {doc_id: key for key, doc_id in keys.items()}


def evaluate(
    engine: Engine, beir: BeirSet, doc_keys: dict[str, str], *, modes: Sequence[str],
    params: FusionParams | None = None, depth: int = 100,
    on_query: Callable[[int], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics and latency per mode over the split's queries."""
    retriever = Retriever(embedder=engine.embedder, store=engine.store, keywords=engine.keywords, params=params)
    baseline = Retriever(embedder=engine.embedder, store=engine.store, keywords=engine.keywords,
                         params=FusionParams(dense_weight=0.5, normalise="rrf"))
    chunks = max(depth + depth // 2, 10)  # a document may have several chunks
    results: dict[str, dict[str, float]] = {}
    for mode in modes:
        sums = dict.fromkeys(METRICS, 0.0)
        latencies = []
        for n, (qid, text) in enumerate(beir.queries.items(), start=1):
            t0 = time.perf_counter()
            if mode == RRF:
                found = baseline.search(text, k=chunks, mode="hybrid")
            else:
                found = retriever.search(text, k=chunks, mode=mode)
            latencies.append(time.perf_counter() - t0)
            ranked = list(dict.fromkeys(doc_keys.get(r.hit.doc_id, "") for r in found))[:depth]
            rels = beir.qrels[qid]
            sums["ndcg@10"] += ndcg_at(ranked, rels, 10)
            sums["recall@10"] += recall_at(ranked, rels, 10)
            sums["recall@100"] += recall_at(ranked, rels, 100)
            sums["mrr@10"] += mrr_at(ranked, rels, 10)
            if on_query:
                on_query(n)
        count = len(beir.queries)
        row = {m: round(v / count, 4) for m, v in sums.items()}
        latencies.sort()
        row["p50_ms"] = round(1000 * statistics.median(latencies), 1)
        row["p95_ms"] = round(1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1)
        results[mode] = row
    return results


def table(results: dict[str, dict[str, float]]) -> str:
    """The modes side by side, one row each."""
    head = f"{'mode':<8} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'MRR@10':>7} {'p50 ms':>8} {'p95 ms':>8}"
    lines = [head, "-" * len(head)]
    for mode, r in results.items():
        lines.append(
            f"{mode:<8} {r['ndcg@10']:>8.4f} {r['recall@10']:>7.4f} {r['recall@100']:>7.4f} "
            f"{r['mrr@10']:>7.4f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}"
        )
    return "\n".join(lines)


def report(engine: Engine, beir: BeirSet, results: dict[str, dict[str, float]], params: FusionParams,
           ingest_s: float) -> dict[str, Any]:
    return {
        "benchmark": "retrieval",
        "dataset": beir.name,
        "split": beir.split,
        "queries": len(beir.queries),
        "documents": len(engine.library.all("ready")),
        "chunks": engine.store.count(),
        "embedder": engine.store.embedder_id,
        "contextual_header": engine.settings.contextual_header,
        "fusion": asdict(params),
        "ingest_seconds": round(ingest_s, 1),
        "modes": results,
    }
