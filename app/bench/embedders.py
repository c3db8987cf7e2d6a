"""``sanctum bench embedders``: torch fp32 vs ONNX fp32 vs ONNX int8, speed and retrieval quality.

Speed: the same texts (SciFact abstracts) at the same batch size through each backend, in
alternating rounds (best round kept, this machine is shared), beside the raw
``SentenceTransformer.encode``. Agreement: how far each backend's vectors are from torch's.
Quality: nDCG@10 of dense retrieval on SciFact train, one vector per abstract (title and text,
cut at the model's window), exact cosine search, so only the vectors differ between the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.bench.beir import load_beir, ndcg_at
from app.core.models.embedder import Embedder
from app.core.models.onnx_backend import BACKENDS


def _corpus(scifact: Path, split: str, limit: int | None) -> tuple[list[str], list[str], Any]:
    """Doc ids and texts: every judged document first, then others up to ``limit``."""
    from app.bench.beir import _jsonl

    beir = load_beir(scifact, split)
    judged = {d for rels in beir.qrels.values() for d in rels}
    docs = [(str(o["_id"]), f"{o.get('title') or ''}\n\n{o.get('text') or ''}".strip())
            for _, o in _jsonl(scifact / "corpus.jsonl")]
    docs.sort(key=lambda d: d[0] not in judged)  # stable: judged ones first, in corpus order
    if limit is not None:
        docs = docs[: max(limit, 1)]
    return [d for d, _ in docs], [t for _, t in docs], beir


def run(*, model_folder: Path, onnx_dirs: list[Path], scifact: Path, split: str = "train", texts: int = 512,
        rounds: int = 2, batch_size: int = 32, docs: int | None = None, quality: bool = True,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    doc_ids, doc_texts, beir = _corpus(scifact, split, docs)
    sample = doc_texts[:texts]
    embedders = {b: Embedder(model_folder, batch_size=batch_size, backend=b, onnx_dirs=onnx_dirs) for b in BACKENDS}
    raw = embedders["torch"]._model
    for e in embedders.values():
        e.embed(sample[:batch_size])  # warm-up
    best: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    runners: dict[str, Callable[[], np.ndarray]] = {
        "raw": lambda: raw.encode(sample, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False),
        **{b: (lambda e=e: e.embed(sample)) for b, e in embedders.items()},
    }
    for r in range(rounds):
        for name, fn in runners.items():
            log(f"round {r + 1}/{rounds}: {name} on {len(sample)} texts …")
            t0 = time.perf_counter()
            vectors[name] = fn()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
    reference = vectors["raw"]
    rows: dict[str, dict[str, Any]] = {}
    for name in runners:
        cos = np.sum(vectors[name] * reference, axis=1)
        rows[name] = {"seconds": round(best[name], 3), "texts_per_s": round(len(sample) / best[name], 2),
                      "speedup_vs_raw_torch": round(best["raw"] / best[name], 3),
                      "max_abs_diff": float(np.abs(vectors[name] - reference).max()),
                      "min_cosine": round(float(cos.min()), 6)}
    if quality:
        queries = list(beir.queries.items())
        for name, e in embedders.items():
            log(f"nDCG@10: embedding {len(doc_texts)} abstracts and {len(queries)} queries with {name} …")
            t0 = time.perf_counter()
            d = e.embed(doc_texts)
            spent = time.perf_counter() - t0
            q = e.embed([text for _, text in queries])
            top = np.argsort(-(q @ d.T), axis=1)[:, :10]
            score = np.mean([ndcg_at([doc_ids[i] for i in top[n]], beir.qrels[qid], 10)
                             for n, (qid, _) in enumerate(queries)])
            rows[name].update({"ndcg@10": round(float(score), 4), "corpus_s": round(spent, 1)})
        for name in embedders:
            rows[name]["ndcg_delta"] = round(rows[name]["ndcg@10"] - rows["torch"]["ndcg@10"], 4)
    return {"benchmark": "embedders", "model": embedders["torch"].name, "batch_size": batch_size,
            "texts": len(sample), "rounds": rounds, "split": split, "documents": len(doc_texts) if quality else 0,
            "queries": len(beir.queries) if quality else 0, "backends": rows}


def table(r: dict[str, Any]) -> str:
    lines = [f"embedders: {r['model']}, {r['texts']} SciFact abstracts, batch {r['batch_size']}, best of "
             f"{r['rounds']} rounds" + (f"; nDCG@10 on {r['split']} ({r['queries']} queries, {r['documents']} "
                                        "abstracts, dense, exact search)" if r["documents"] else ""),
             f"{'backend':30}{'texts/s':>9}{'vs raw':>8}{'max|Δ|':>10}{'min cos':>10}{'nDCG@10':>9}{'Δ':>8}"]
    labels = {"raw": "raw SentenceTransformer.encode", "torch": "torch fp32", "onnx": "onnx fp32",
              "onnx-int8": "onnx int8"}
    for name, row in r["backends"].items():
        ndcg = f"{row['ndcg@10']:>9.4f}{row['ndcg_delta']:>+8.4f}" if "ndcg@10" in row else f"{'':>9}{'':>8}"
        lines.append(f"{labels.get(name, name):30}{row['texts_per_s']:>9.1f}{row['speedup_vs_raw_torch']:>7.2f}x"
                     f"{row['max_abs_diff']:>10.1e}{row['min_cosine']:>10.5f}{ndcg}")
    return "\n".join(lines)
