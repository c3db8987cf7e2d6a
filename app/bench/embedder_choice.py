"""``sanctum bench embedder-choice``: MiniLM on torch vs nomic-embed-text-v1.5 F16 vs Q8_0 on llama.cpp.

Per embedder, in one run:

- **quality** (``--quality``): SciFact nDCG@10 of hybrid search through the real pipeline (ingest,
  chunking, headers, keyword index; ``--docs N`` keeps the judged abstracts plus others up to N,
  so every row uses the same corpus), and financebench-dev page-hit@5 (``sanctum bench pages``'s
  Sanctum side; ``--limit N`` takes the first N questions and their filings);
- **timing** (``--timing``, on an idle machine only): ingest chunks/s, i.e. the embedder's own
  ``embed`` over the chunks Sanctum makes of one filing (header included), and query encode time
  (median and p95 over SciFact queries, one at a time, as search does).

A 300-page filing's ingest time is estimated from its chunks and the measured chunks/s.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.bench.beir import BeirSet, load_beir
from app.core.config import Settings
from app.core.engine import Engine

#: The embedders compared: a name for the table -> what Settings.embedding_model is set to.
EMBEDDERS = {"minilm-torch": None, "nomic-f16": "nomic-f16", "nomic-q8_0": "nomic-q8_0"}


def _subset(beir: BeirSet, docs: int | None, queries: int | None = None) -> BeirSet:
    """The first ``queries`` queries (None: all) over their judged abstracts plus others, ``docs``
    in all (None: the whole corpus)."""
    if queries is not None:
        kept = dict(list(beir.queries.items())[:queries])
        beir = BeirSet(folder=beir.folder, split=beir.split, queries=kept,
                       qrels={q: r for q, r in beir.qrels.items() if q in kept})
    if docs is None:
        return beir
    judged = {d for rels in beir.qrels.values() for d in rels}

    class Subset(BeirSet):
        def corpus(self) -> Any:
            items = list(BeirSet.corpus(self))
            items.sort(key=lambda i: i.key not in judged)
            return iter(items[: max(docs, len(judged))])

    return Subset(folder=beir.folder, split=beir.split, queries=beir.queries, qrels=beir.qrels)


def _quality(name: str, model: str | None, *, scifact: Path, split: str, docs: int | None,
             scifact_queries: int | None, pdfs: Path | None,
             questions: Path | None, limit: int | None, cache: Path, passphrase: Any,
             log: Callable[[str], None]) -> dict[str, Any]:
    from app.bench import pages
    from app.bench.retrieval import evaluate, ingest_corpus

    row: dict[str, Any] = {}
    beir = _subset(load_beir(scifact, split), docs, scifact_queries)
    home = cache / f"scifact-{name}-{docs or 'all'}-{scifact_queries or 'all'}"
    with Engine(home, settings=Settings(embedding_model=model), passphrase=passphrase) as engine:
        log(f"{name}: SciFact {split}, ingesting …")
        doc_keys = ingest_corpus(engine, beir)
        result = evaluate(engine, beir, doc_keys, modes=["hybrid"])["hybrid"]
        row.update({"scifact_ndcg@10": result["ndcg@10"], "scifact_docs": len(doc_keys),
                    "scifact_queries": len(beir.queries),
                    "scifact_chunks": engine.store.count()})
        log(f"{name}: SciFact nDCG@10 hybrid {result['ndcg@10']:.4f} over {len(doc_keys)} abstracts")
    if pdfs is not None and questions is not None:
        report = pages.run(pdfs=pdfs, questions_file=questions, ks=(1, 5, 10), limit=limit, cache=cache / "pages",
                           embedding_model=Path(model) if model else None, common=False,
                           passphrase=passphrase, log=log)
        r = report["results"]["sanctum"]
        row.update({"pages_hit@5": r["hit@5"], "pages_questions": r["questions"], "pages_mrr": r["mrr"],
                    "pages_chunks": r["chunks"]})
        log(f"{name}: page-hit@5 {r['hit@5']}/{r['questions']}")
    return row


def _timing(name: str, model: str | None, *, scifact: Path, split: str, pdf: Path, queries: int, work: Path,
            passphrase: Any, log: Callable[[str], None]) -> dict[str, Any]:
    from app.core.ingest.parsers import parse

    with Engine(work / f"timing-{name}", settings=Settings(embedding_model=model), passphrase=passphrase) as engine:
        service = engine.ingest_service()
        parsed = parse(pdf)
        unit = service._prepare(pdf, parsed)  # the chunks (with their headers) the ingest would embed
        emb = engine.embedder
        emb.embed(unit.texts[:8])  # warm-up
        t0 = time.perf_counter()
        emb.embed(unit.texts)
        spent = time.perf_counter() - t0
        texts = list(load_beir(scifact, split).queries.values())[:queries]
        emb.embed_query(texts[0])
        times = []
        for text in texts:
            t1 = time.perf_counter()
            emb.embed_query(text)
            times.append(1000 * (time.perf_counter() - t1))
        times.sort()
        pages = parsed.page_count or 1
        chunks_per_page = len(unit.texts) / pages
        rate = len(unit.texts) / spent
        log(f"{name}: {len(unit.texts)} chunks of {pdf.name} in {spent:.1f} s ({rate:.1f}/s)")
        return {"chunks_per_s": round(rate, 2), "timing_chunks": len(unit.texts), "timing_pages": pages,
                "query_ms_median": round(statistics.median(times), 1),
                "query_ms_p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
                "est_300_pages_s": round(300 * chunks_per_page / rate, 0)}


def run(*, embedders: Sequence[str], quality: bool, timing: bool, scifact: Path, split: str = "train",
        docs: int | None = None, scifact_queries: int | None = None, pdfs: Path | None = None,
        questions: Path | None = None, limit: int | None = None,
        timing_pdf: Path | None = None, queries: int = 200, cache: Path | None = None, passphrase: Any = None,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="sanctum-bench-emb-")) if cache is None else cache.expanduser()
    work.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    try:
        for name in embedders:
            model = EMBEDDERS[name]
            rows[name] = {}
            if quality:
                rows[name].update(_quality(name, model, scifact=scifact, split=split, docs=docs,
                                           scifact_queries=scifact_queries, pdfs=pdfs,
                                           questions=questions, limit=limit, cache=work, passphrase=passphrase,
                                           log=log))
            if timing:
                if timing_pdf is None:
                    raise ValueError("--timing needs a PDF to time (--timing-pdf)")
                rows[name].update(_timing(name, model, scifact=scifact, split=split, pdf=timing_pdf,
                                          queries=queries, work=work, passphrase=passphrase, log=log))
    finally:
        if cache is None:
            shutil.rmtree(work, ignore_errors=True)
    return {"benchmark": "embedder-choice", "split": split, "docs": docs, "scifact_queries": scifact_queries,
            "limit": limit, "rows": rows}


def table(report: dict[str, Any]) -> str:
    cols = [("scifact_ndcg@10", "SciFact nDCG@10", "{:.4f}"), ("pages_hit@5", "page-hit@5", "{}"),
            ("chunks_per_s", "ingest chunks/s", "{:.1f}"), ("est_300_pages_s", "300 pages s", "{:.0f}"),
            ("query_ms_median", "query ms p50", "{:.1f}"), ("query_ms_p95", "query ms p95", "{:.1f}")]
    lines = ["".ljust(14) + "".join(label.rjust(17) for _, label, _ in cols)]
    for name, row in report["rows"].items():
        cells = []
        for key, _, fmt in cols:
            value = row.get(key)
            if key == "pages_hit@5" and value is not None:
                cells.append(f"{value}/{row['pages_questions']}".rjust(17))
            else:
                cells.append((fmt.format(value) if value is not None else "-").rjust(17))
        lines.append(name.ljust(14) + "".join(cells))
    return "\n".join(lines)
