"""``sanctum bench pages``: does search land on the right page of a long filing?

Every filing is ingested into a library of its own (the normal ingest: parsers, chunking, headers,
embedding, keyword index); every question goes through Sanctum's search. A question is a hit at k
when one of its evidence pages, in its own document, is among the top k passages. In the same run
the common pipeline of :mod:`app.bench.answers` (1,000-character chunks of each page's text, 200
overlapping, the same MiniLM, Chroma's top k) answers the same questions, so the two can be set
side by side.

Questions are FinanceBench lines: ``{"question", "doc_name", "evidence": [{"evidence_page_num"}]}``
with 0-based pages (``doc_name`` names ``DIR/doc_name.pdf``); plain ``{"q", "file", "pages"}`` lines
with 1-based pages work too.

Ingesting a few thousand pages takes many minutes on two cores, so ``--cache DIR`` keeps both
libraries between runs. The Sanctum library's folder is named after the embedder, the settings and
the source of the ingest code, so a change to any of them ingests afresh instead of reusing stale
chunks.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.bench.answers import CommonPipeline
from app.bench.beir import BenchmarkError
from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder

SANCTUM, COMMON = "sanctum", "common"


@dataclass(frozen=True)
class PageQuestion:
    """One question and where its answer is: a document (file stem) and its 1-based pages."""

    q: str
    doc: str
    pages: frozenset[int]


def load_questions(path: Path) -> list[PageQuestion]:
    """Read a questions file (see the module docstring); a malformed line is an error naming it."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if "evidence" in raw:
                pages = frozenset(int(e["evidence_page_num"]) + 1 for e in raw["evidence"])
                out.append(PageQuestion(str(raw["question"]).strip(), str(raw["doc_name"]), pages))
            else:
                out.append(PageQuestion(str(raw["q"]).strip(), Path(str(raw["file"])).stem,
                                        frozenset(int(p) for p in raw["pages"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchmarkError(f"{path}, line {number}: not a page question ({exc})") from exc
    return out


def first_hit(found: Sequence[tuple[str, int | None]], question: PageQuestion) -> int | None:
    """The 1-based rank of the first passage ``(file stem, page)`` on an evidence page, or None."""
    for rank, (doc, page) in enumerate(found, start=1):
        if doc == question.doc and page in question.pages:
            return rank
    return None


def score(ranks: Sequence[int | None], ks: Sequence[int]) -> dict[str, Any]:
    """page-hit@k counts and MRR over the deepest k."""
    depth = max(ks)
    row: dict[str, Any] = {f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) for k in ks}
    row["mrr"] = round(sum(1.0 / r for r in ranks if r is not None and r <= depth) / max(1, len(ranks)), 4)
    row["questions"] = len(ranks)
    return row


def code_fingerprint() -> str:
    """Hash of the code that decides what goes into the index (parsers, chunking, keywords)."""
    root = Path(__file__).resolve().parents[1] / "core"
    digest = hashlib.sha256()
    for path in sorted([*(root / "ingest").rglob("*.py"), root / "storage" / "keywords.py"]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def _files(pdfs: Path, questions: Sequence[PageQuestion], limit: int | None) -> list[Path]:
    """The filings to ingest: all of DIR, or only those the first ``limit`` questions ask about."""
    if limit is None:
        files = sorted(p for p in pdfs.iterdir() if p.suffix.lower() == ".pdf")
    else:
        files = sorted({pdfs / f"{q.doc}.pdf" for q in questions})
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise BenchmarkError(f"{pdfs}: no {', '.join(missing)}")
    if not files:
        raise BenchmarkError(f"{pdfs}: no PDF files")
    return files


def run(
    *, pdfs: Path, questions_file: Path, ks: Sequence[int] = (1, 5, 10), limit: int | None = None,
    cache: Path | None = None, embedding_model: Path | None = None, common: bool = True,
    settings: Settings | None = None, passphrase: Any = None, log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Ingest, ask, score; returns the report (see :func:`table`)."""
    questions = load_questions(questions_file)[:limit] if limit else load_questions(questions_file)
    files = _files(pdfs, questions, limit)
    depth = max(ks)
    settings = settings or Settings()
    work = Path(tempfile.mkdtemp(prefix="sanctum-bench-pages-")) if cache is None else cache.expanduser()
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"benchmark": "pages", "questions": len(questions), "files": len(files),
                              "ks": list(ks), "results": {}, "per_question": {}}
    try:
        # Not the list of files: a library cached for some filings serves a run over more (only the
        # new ones are ingested) or fewer (the search is kept to this run's filings).
        key = hashlib.sha256(json.dumps([asdict(settings), str(embedding_model), code_fingerprint()]).encode()
                             ).hexdigest()[:12]
        with Engine(work / f"sanctum-{key}", settings=settings, embedding_model=embedding_model,
                    passphrase=passphrase) as engine:
            started = time.perf_counter()
            outcomes = engine.ingest_service().ingest(files)
            fresh = [o for o in outcomes if o.status == "ingested"]
            failed = [o for o in outcomes if o.status == "failed"]
            for o in failed:
                log(f"failed: {o.path.name}: {o.reason}")
            ingest_s = time.perf_counter() - started
            search = engine.search_service()
            wanted = {f.resolve() for f in files}
            only = [d.doc_id for d in engine.library.all("ready") if Path(d.path) in wanted]
            ranks, found_all = [], []
            query_s = []
            for q in questions:
                t0 = time.perf_counter()
                passages = search.search(q.q, k=depth, doc_ids=only)
                query_s.append(time.perf_counter() - t0)
                found = [(Path(p.path).stem, p.page) for p in passages]
                ranks.append(first_hit(found, q))
                found_all.append(found[:5])
            report["results"][SANCTUM] = {
                **score(ranks, ks), "chunks": sum(d.chunk_count for d in engine.library.all("ready")
                                                  if d.doc_id in set(only)),
                "embedder": engine.embedder.id,
                "ingest_s": round(ingest_s, 1) if fresh else None, "ingested_now": len(fresh),
                "failed": len(failed), "query_median_ms": round(1000 * sorted(query_s)[len(query_s) // 2], 1),
            }
            report["per_question"][SANCTUM] = [
                {"q": q.q[:120], "doc": q.doc, "pages": sorted(q.pages), "rank": r, "top5": f}
                for q, r, f in zip(questions, ranks, found_all, strict=True)
            ]
            # The same library and questions without query narrowing: what narrowing alone adds.
            search.narrow = False
            plain = [first_hit([(Path(p.path).stem, p.page) for p in search.search(q.q, k=depth, doc_ids=only)], q)
                     for q in questions]
            report["results"][f"{SANCTUM} (no narrowing)"] = {**report["results"][SANCTUM], **score(plain, ks)}
            log(f"sanctum: {engine.store.count()} chunks, {len(fresh)} files ingested now")
            if common:
                report["results"][COMMON] = _common(files, questions, ks, work, log)
    finally:
        if cache is None:
            shutil.rmtree(work, ignore_errors=True)
    return report


def _common(files: Sequence[Path], questions: Sequence[PageQuestion], ks: Sequence[int], work: Path,
            log: Callable[[str], None]) -> dict[str, Any]:
    """The common pipeline, always with the shipped MiniLM (its library is cached like Sanctum's)."""
    from app.core.models import shipped

    embedder = Embedder(shipped.default_embedder(work))
    key = hashlib.sha256(json.dumps([embedder.id, [f.name for f in files]]).encode()).hexdigest()[:12]
    folder = work / f"common-{key}"
    marker = folder / "complete.json"
    if not marker.is_file():  # a run stopped half way leaves a partial collection: start it afresh
        shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    pipeline = CommonPipeline(files, embedder, folder, reuse=marker.is_file())
    ingest_s = time.perf_counter() - started
    if not marker.is_file():
        marker.write_text(json.dumps({"chunks": pipeline.chunks, "ingest_s": round(ingest_s, 1)}), encoding="utf-8")
        fresh = True
    else:
        fresh = False
    depth = max(ks)
    ranks = []
    for q in questions:
        res = pipeline.collection.query(query_embeddings=[embedder.embed_query(q.q).tolist()],
                                        n_results=min(depth, max(1, pipeline.chunks)), include=["metadatas"])
        found = [(Path(m["path"]).stem, None if m["page"] == -1 else m["page"]) for m in res["metadatas"][0]]
        ranks.append(first_hit(found, q))
    log(f"common: {pipeline.chunks} chunks")
    return {**score(ranks, ks), "chunks": pipeline.chunks, "embedder": embedder.id,
            "ingest_s": round(ingest_s, 1) if fresh else None}


def table(report: dict[str, Any]) -> str:
    """The pipelines side by side."""
    results = report["results"]
    names = list(results)
    n = report["questions"]
    rows = [(f"page-hit@{k}", lambda r, k=k: f"{r[f'hit@{k}']}/{n}") for k in report["ks"]]
    rows += [
        ("MRR", lambda r: f"{r['mrr']:.3f}"),
        ("chunks", lambda r: str(r["chunks"])),
        ("ingest s", lambda r: "cached" if r["ingest_s"] is None else f"{r['ingest_s']:.0f}"),
        ("embedder", lambda r: str(r["embedder"])),
    ]
    width = max(26, *(len(x) + 2 for x in names), *(len(str(r["embedder"])) + 2 for r in results.values()))
    lines = [f"{report['files']} filings, {n} questions", "".ljust(14) + "".join(x.rjust(width) for x in names)]
    for label, fmt in rows:
        lines.append(label.ljust(14) + "".join(fmt(results[x]).rjust(width) for x in names))
    return "\n".join(lines)


def narrowing_only(*, pdfs: Path, questions_file: Path, limit: int | None = None) -> dict[str, Any]:
    """Query narrowing alone, without ingesting: each filing's names from its first pages, then
    which filing(s) each question is narrowed to (right, a set holding the right one, none, wrong)."""
    import pypdfium2 as pdfium

    from app.core.answer.narrowing import document_names, narrow, trading_symbols
    from app.core.ingest.parsers.base import ParsedDocument, Section
    from app.core.ingest.parsers.context import document_identity
    from app.core.ingest.parsers.pdf import normalise_pdf_text

    questions = load_questions(questions_file)[:limit] if limit else load_questions(questions_file)
    names = []
    for pdf in _files(pdfs, questions, limit):
        document = pdfium.PdfDocument(str(pdf))
        try:
            texts = []
            for index in range(min(3, len(document))):
                page = document[index]
                textpage = page.get_textpage()
                texts.append(normalise_pdf_text(textpage.get_text_range()))
                textpage.close()
                page.close()
        finally:
            document.close()
        identity = document_identity(ParsedDocument("pdf", [Section(t, page=i + 1) for i, t in enumerate(texts)]), pdf)
        if identity.company is None and identity.form is None:
            continue
        found = document_names(pdf.stem, pdf.stem, identity.company, identity.period,
                               trading_symbols("\n".join(texts)))
        if found is not None:
            names.append(found)
    counts = {"right": 0, "set": 0, "none": 0, "wrong": 0}
    rows = []
    for q in questions:
        got = narrow(q.q, names)
        kind = "none" if got is None else "right" if got == [q.doc] else "set" if q.doc in got else "wrong"
        counts[kind] += 1
        rows.append({"q": q.q[:100], "doc": q.doc, "narrowed_to": got, "outcome": kind})
    return {"benchmark": "pages-narrowing", "questions": len(questions), "filings": len(names), **counts,
            "per_question": rows}
