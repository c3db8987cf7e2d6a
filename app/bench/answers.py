"""``sanctum bench answers``: are the answers right, honest about what the documents don't say, cited
to the right page, and quick?

Every question of a JSONL file (``{"q", "answers": [...], "impossible": bool, "file"?: name,
"page"?: n}``) is asked of Sanctum's own pipeline with each chat model given, and, in the same run,
of the common pipeline people build from tutorials with the same model: 1,000-character chunks
(200 overlapping), the same MiniLM embedder, Chroma's top 4, LangChain's stock question-answering
prompt. Both read the same files with Sanctum's parsers, so only the pipeline differs.

Scoring, as the field does for SQuAD 2.0: lower-case, strip punctuation and articles; an answer is
right when it contains an accepted answer and does not decline; an unanswerable question is right
when the answer declines (Sanctum's own decline, or plain phrases such as "the documents do not
say", "I don't know", "is not mentioned": :func:`app.core.answer.evidence.is_decline`). A citation is
right when a cited passage comes from the named file (and page, where given).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import statistics
import string
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.answer.evidence import is_decline
from app.core.answer.service import Done, Sources, Token
from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.llm import ChatModel, GenerationStats, Message

#: LangChain's stock "stuff" question-answering prompt (langchain/chains/question_answering), verbatim.
COMMON_PROMPT = (
    "Use the following pieces of context to answer the question at the end. If you don't know the "
    "answer, just say that you don't know, don't try to make up an answer.\n\n{context}\n\n"
    "Question: {question}\nHelpful Answer:"
)
COMMON_CHUNK, COMMON_OVERLAP, COMMON_K = 1000, 200, 4
SANCTUM, COMMON = "sanctum", "common"


@dataclass(frozen=True)
class Question:
    q: str
    answers: list[str]
    impossible: bool
    file: str | None = None
    page: int | None = None


@dataclass
class Outcome:
    """One question asked of one pipeline with one model."""

    q: str
    impossible: bool
    answer: str
    declined: bool
    right: bool
    cited: list[dict[str, Any]]
    citation_right: bool | None
    supported: bool | None
    first_token_s: float | None
    total_s: float
    prompt_tokens: int | None
    completion_tokens: int | None
    model_asked: bool
    extra: dict[str, Any] = field(default_factory=dict)


def load_questions(path: Path) -> list[Question]:
    """Read a questions file; a malformed line is an error that names it."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(Question(q=str(raw["q"]).strip(), answers=[str(a) for a in raw.get("answers", [])],
                                impossible=bool(raw.get("impossible", False)), file=raw.get("file"),
                                page=raw.get("page")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {number}: not a question ({exc})") from exc
    return out


def normalize(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(" " if ch in string.punctuation or ch in "“”‘’" else ch for ch in text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def is_right(question: Question, answer: str, declined: bool) -> bool:
    """Whether ``answer`` is right for ``question`` (see the module docstring)."""
    if question.impossible:
        return declined
    if declined:
        return False
    said = f" {normalize(answer)} "
    return any(f" {normalize(a)} " in said for a in question.answers if normalize(a))


def citation_right(question: Question, cited: Sequence[dict[str, Any]]) -> bool | None:
    """Whether a cited passage is from the question's file (and page); None when not named."""
    if question.impossible or not question.file:
        return None
    for c in cited:
        if Path(c["path"]).name == question.file and (question.page is None or c.get("page") == question.page):
            return True
    return False


# -- Sanctum -------------------------------------------------------------------------------------

def ask_sanctum(engine: Engine, question: Question, model_key: str | None = None) -> Outcome:
    start = time.perf_counter()
    first: float | None = None
    done: Done | None = None
    asked = False
    for event in engine.ask_service(model_key).ask(question.q):
        if isinstance(event, Sources) and event.passages:
            asked = True
        elif isinstance(event, Token) and first is None:
            first = time.perf_counter() - start
        elif isinstance(event, Done):
            done = event
    total = time.perf_counter() - start
    assert done is not None
    declined = done.declined or is_decline(done.answer)
    cited = [{"n": p.n, "path": p.path, "page": p.page} for p in done.citations]
    return Outcome(
        q=question.q, impossible=question.impossible, answer=done.answer, declined=declined,
        right=is_right(question, done.answer, declined), cited=cited,
        citation_right=citation_right(question, cited), supported=done.supported,
        first_token_s=first, total_s=total, prompt_tokens=_int(done.timings.get("prompt_tokens")),
        completion_tokens=_int(done.timings.get("completion_tokens")), model_asked=asked,
        extra={"coverage": done.timings.get("coverage"), "answer_coverage": done.timings.get("answer_coverage"),
               "judge_yes": done.timings.get("judge_yes"),
               "evidence": [e.text for e in done.evidence]},
    )


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


# -- the common pipeline -------------------------------------------------------------------------

def split_text(text: str, size: int = COMMON_CHUNK, overlap: int = COMMON_OVERLAP) -> list[str]:
    """LangChain's RecursiveCharacterTextSplitter, in short: split on paragraphs, then lines, then
    words, and merge pieces into chunks of at most ``size`` characters with ``overlap`` shared."""
    def pieces(t: str, seps: Sequence[str]) -> list[str]:
        if len(t) <= size or not seps:
            return [t]
        sep, rest = seps[0], seps[1:]
        out: list[str] = []
        for part in t.split(sep):
            out.extend(pieces(part, rest) if len(part) > size else [part])
        return out

    chunks: list[str] = []
    current = ""
    for part in pieces(text, ["\n\n", "\n", " "]):
        part = part.strip()
        if not part:
            continue
        if current and len(current) + 1 + len(part) > size:
            chunks.append(current)
            tail = current[-overlap:] if overlap else ""
            tail = tail[tail.find(" ") + 1:] if " " in tail else tail
            current = f"{tail} {part}".strip() if len(tail) + 1 + len(part) <= size else part
        else:
            current = f"{current} {part}".strip() if current else part
    if current:
        chunks.append(current)
    return chunks


class CommonPipeline:
    """The tutorial pipeline (see the module docstring), over its own Chroma collection.

    With ``reuse``, a collection already filled in ``folder`` is used as it is.
    """

    def __init__(self, files: Sequence[Path], embedder: Any, folder: Path, *, reuse: bool = False) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from app.core.ingest.parsers import parse
        from app.core.ingest.parsers.context import page_text_only

        self.embedder = embedder
        self.client = chromadb.PersistentClient(str(folder), settings=ChromaSettings(anonymized_telemetry=False))
        self.collection = self.client.get_or_create_collection("common", metadata={"hnsw:space": "cosine"})
        if reuse and self.collection.count():  # filled by an earlier run over the same files (bench pages)
            self.chunks = self.collection.count()
            return
        texts, metas = [], []
        for path in files:
            try:
                doc = parse(path)
            except Exception:  # noqa: BLE001 - the tutorial pipeline skips what it cannot read
                continue
            for section in doc.sections:
                # The page as a PDF loader reads it: without the table records Sanctum's parser adds.
                for chunk in split_text(page_text_only(section.text)):
                    texts.append(chunk)
                    metas.append({"path": str(path), "page": section.page if section.page is not None else -1})
        if texts:
            vectors = embedder.embed(texts)
            step = self.client.get_max_batch_size()  # Chroma refuses larger additions (5,461 here)
            for i in range(0, len(texts), step):
                self.collection.add(ids=[str(j) for j in range(i, min(i + step, len(texts)))],
                                    embeddings=vectors[i : i + step].tolist(), documents=texts[i : i + step],
                                    metadatas=metas[i : i + step])
        self.chunks = len(texts)

    def ask(self, model: ChatModel, question: Question, *, max_tokens: int) -> Outcome:
        start = time.perf_counter()
        res = self.collection.query(query_embeddings=[self.embedder.embed_query(question.q).tolist()],
                                    n_results=min(COMMON_K, max(1, self.chunks)),
                                    include=["documents", "metadatas"])
        docs, metas = res["documents"][0], res["metadatas"][0]
        prompt = COMMON_PROMPT.format(context="\n\n".join(docs), question=question.q)
        stats = GenerationStats()
        first = None
        parts = []
        for piece in model.stream([Message("user", prompt)], max_tokens=max_tokens, temperature=0.1, stats=stats):
            if first is None:
                first = time.perf_counter() - start
            parts.append(piece)
        answer = "".join(parts).strip()
        declined = is_decline(answer)
        cited = [{"path": m["path"], "page": None if m["page"] == -1 else m["page"]} for m in metas]
        return Outcome(
            q=question.q, impossible=question.impossible, answer=answer, declined=declined,
            right=is_right(question, answer, declined), cited=cited,
            citation_right=citation_right(question, cited), supported=None, first_token_s=first,
            total_s=time.perf_counter() - start, prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens, model_asked=True,
        )


# -- the run -------------------------------------------------------------------------------------

def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if not o.impossible]
    impossible = [o for o in outcomes if o.impossible]
    cites = [o.citation_right for o in answerable if o.citation_right is not None]
    asked = [o for o in outcomes if o.model_asked and o.first_token_s is not None]
    firsts = sorted(o.first_token_s for o in asked if o.first_token_s is not None)
    totals = sorted(o.total_s for o in asked)
    prompts = [o.prompt_tokens for o in asked if o.prompt_tokens]
    rates = [o.completion_tokens / max(1e-6, o.total_s - (o.first_token_s or 0.0))
             for o in asked if o.completion_tokens and o.completion_tokens > 1]
    return {
        "questions": len(outcomes),
        "answerable": len(answerable), "answerable_right": sum(o.right for o in answerable),
        "impossible": len(impossible), "declined_right": sum(o.right for o in impossible),
        "answered_should_decline": sum(not o.declined for o in impossible),
        "wrongly_declined": sum(o.declined for o in answerable),
        "citations_checked": len(cites), "citation_right": sum(bool(c) for c in cites),
        "unsupported_marked": sum(o.supported is False for o in outcomes),
        "model_asked": len(asked),
        "first_token_median_s": _pct(firsts, 50), "first_token_p90_s": _pct(firsts, 90),
        "total_median_s": _pct(totals, 50), "total_p90_s": _pct(totals, 90),
        "all_total_median_s": _pct(sorted(o.total_s for o in outcomes), 50),
        "prompt_tokens_median": statistics.median(prompts) if prompts else None,
        "tokens_per_s": round(statistics.median(rates), 1) if rates else None,
    }


def _pct(values: Sequence[float], q: int) -> float | None:
    if not values:
        return None
    i = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return round(values[i], 2)


_ROWS: list[tuple[str, Any]] = [
    ("answerable right", lambda s: f"{s['answerable_right']}/{s['answerable']}"),
    ("unanswerable declined", lambda s: f"{s['declined_right']}/{s['impossible']}"),
    ("answered, should decline", lambda s: str(s["answered_should_decline"])),
    ("answerable but declined", lambda s: str(s["wrongly_declined"])),
    ("citation right (file/page)", lambda s: f"{s['citation_right']}/{s['citations_checked']}"),
    ("marked unsupported", lambda s: str(s["unsupported_marked"])),
    ("questions the model read", lambda s: str(s["model_asked"])),
    ("first token median / p90 s", lambda s: f"{s['first_token_median_s']} / {s['first_token_p90_s']}"),
    ("whole answer median / p90 s", lambda s: f"{s['total_median_s']} / {s['total_p90_s']}"),
    ("median over all questions s", lambda s: str(s["all_total_median_s"])),
    ("prompt tokens median", lambda s: str(s["prompt_tokens_median"])),
    ("generation tokens/s", lambda s: str(s["tokens_per_s"])),
    ("model file MB", lambda s: _mb(s.get("model_file_mb"))),
    ("peak memory (RSS) MB", lambda s: _mb(s.get("rss_peak_mb"))),
]


def table(results: dict[str, dict[str, Any]]) -> str:
    """Side by side: one column per pipeline × model."""
    names = list(results)
    rows = _ROWS
    width = max(28, *(len(n) for n in names))
    lines = ["".ljust(30) + "".join(n.rjust(width + 2) for n in names)]
    for label, fmt in rows:
        lines.append(label.ljust(30) + "".join(fmt(results[n]).rjust(width + 2) for n in names))
    return "\n".join(lines)


def _mb(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


class RssPeak:
    """The process's largest resident memory while a block runs, sampled every 0.2 s from
    /proc/self/statm (the kernel's own high-water mark cannot be reset between models)."""

    def __init__(self) -> None:
        import threading

        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="rss-peak")

    @staticmethod
    def current() -> int:
        try:
            import os

            pages = int(Path("/proc/self/statm").read_text().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_bytes = max(self.peak_bytes, self.current())

    def __enter__(self) -> RssPeak:
        self.peak_bytes = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self.current())


def during_ingest(engine: Engine, questions: Sequence[Question], folder: Path, *, log: Any = None) -> dict[str, Any]:
    """Ask ``questions`` once on an idle machine, then again while ``folder`` is being ingested into
    the same library (the app's situation: a question typed while files are read); returns both
    medians and their ratio. Questions are asked only while the ingest is still running."""
    import threading

    idle = [ask_sanctum(engine, q) for q in questions]
    started = threading.Event()
    finished = threading.Event()

    def ingest() -> None:
        try:
            engine.ingest_service().ingest([folder], progress=lambda p: started.set())
        finally:
            started.set()
            finished.set()

    worker = threading.Thread(target=ingest, daemon=True)
    t0 = time.perf_counter()
    worker.start()
    started.wait()
    busy: list[tuple[Outcome, Outcome]] = []
    for q, quiet in zip(questions, idle, strict=True):
        if finished.is_set():
            break
        busy.append((ask_sanctum(engine, q), quiet))
        if log:
            log(f"[during ingest] {len(busy)} asked, {busy[-1][0].total_s:.1f} s (idle {quiet.total_s:.1f} s)")
    ingest_left = not finished.is_set()
    worker.join()
    pairs = [(b, i) for b, i in busy if b.first_token_s is not None and i.first_token_s is not None]

    def med(values: list[float]) -> float | None:
        return round(statistics.median(values), 2) if values else None

    first_busy, first_idle = med([b.first_token_s for b, _ in pairs]), med([i.first_token_s for _, i in pairs])  # type: ignore[misc]
    total_busy, total_idle = med([b.total_s for b, _ in pairs]), med([i.total_s for _, i in pairs])
    return {
        "asked_during_ingest": len(pairs), "ingest_still_running_after_last": ingest_left,
        "ingest_s": round(time.perf_counter() - t0, 2),
        "first_token_idle_s": first_idle, "first_token_during_ingest_s": first_busy,
        "total_idle_s": total_idle, "total_during_ingest_s": total_busy,
        "slowdown": round(total_busy / total_idle, 2) if total_busy and total_idle else None,
    }


def _ask_all(report: dict[str, Any], key: str, questions: Sequence[Question], ask: Any, log: Any) -> None:
    """Ask every question with ``ask``; put the summary and the outcomes in ``report`` under ``key``."""
    outs = []
    for i, question in enumerate(questions, start=1):
        o = ask(question)
        outs.append(o)
        if log:
            log(f"[{key}] {i}/{len(questions)} {'ok ' if o.right else 'NO '}{o.q[:60]!r} -> {o.answer[:100]!r}")
    report["results"][key] = summarise(outs)
    report["outcomes"][key] = [asdict(o) for o in outs]


def compare_in_app(engine: Engine, questions: Sequence[Question], keys: Sequence[str], *,
                   progress: Any = None, cancelled: Any = None) -> dict[str, dict[str, Any]]:
    """Ask ``questions`` of the user's own library with each library model in ``keys``, through the
    app's engine (one model loaded at a time); the summaries, as :func:`table` takes them.

    Args:
        progress: Called with (questions done, questions in all, model key).
        cancelled: Polled between questions; True stops (the models done so far are returned).
    """
    results: dict[str, dict[str, Any]] = {}
    total = len(questions) * len(keys)
    done = 0
    for key in keys:
        path, _ = engine.model_service().resolve(key)
        outs: list[Outcome] = []
        with RssPeak() as rss:
            for question in questions:
                if cancelled and cancelled():
                    return results
                outs.append(ask_sanctum(engine, question, key))
                done += 1
                if progress:
                    progress(done, total, key)
        results[key] = {**summarise(outs), "model_file_mb": round(path.stat().st_size / 1e6, 1),
                        "rss_peak_mb": round(rss.peak_bytes / 1e6, 1)}
    return results


def rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """The side-by-side table as (label, one cell per model) rows, for the GUI."""
    return [(label, [fmt(results[n]) for n in results]) for label, fmt in _ROWS]


def run(*, questions_file: Path, docs: Path | None, models: Sequence[Path], home: Path | None,
        common: bool, limit: int | None, threads: int, settings: Settings | None = None,
        passphrase: Any = None, log: Any = None, ingest_folder: Path | None = None) -> dict[str, Any]:
    """Ask every question of every pipeline and model; returns the report (summaries and outcomes)."""
    questions = load_questions(questions_file)[:limit] if limit else load_questions(questions_file)
    temporary = docs is not None and home is None
    root = Path(tempfile.mkdtemp(prefix="sanctum-bench-answers-")) if temporary else home
    settings = settings or Settings()
    settings.threads = threads
    report: dict[str, Any] = {"questions_file": str(questions_file), "docs": str(docs) if docs else None,
                              "settings": asdict(settings), "results": {}, "outcomes": {}}
    try:
        first_engine = Engine(root, settings=settings, passphrase=passphrase,
                              chat_model=models[0] if models else None)
        embedder = first_engine.embedder
        files = sorted(p for p in docs.rglob("*") if p.is_file()) if docs else []
        if docs:
            started = time.perf_counter()
            first_engine.ingest_service().ingest(files)
            report["ingest_s"] = round(time.perf_counter() - started, 2)
            report["chunks"] = first_engine.store.count()
        model_paths = list(models) or [first_engine.chat_model_path()]
        first_engine.close()
        common_pipe = None
        if common and files:
            common_pipe = CommonPipeline(files, embedder, Path(tempfile.mkdtemp(prefix="sanctum-common-")))
        for path in model_paths:
            rss = RssPeak().__enter__()  # from the model's load to its last answer
            chat = ChatModel(path, context_size=settings.context_size, threads=threads)
            label = chat.name or path.name
            try:
                with Engine(root, settings=settings, embedder=embedder, chat=chat, passphrase=passphrase) as engine:
                    _ask_all(report, f"{SANCTUM} · {label}", questions, lambda q: ask_sanctum(engine, q), log)
                rss.__exit__()
                report["results"][f"{SANCTUM} · {label}"].update(
                    model_file_mb=round(Path(path).stat().st_size / 1e6, 1), rss_peak_mb=round(rss.peak_bytes / 1e6, 1))
                if common_pipe is not None:
                    ask_common = functools.partial(common_pipe.ask, chat, max_tokens=settings.max_answer_tokens)
                    _ask_all(report, f"{COMMON} · {label}", questions, ask_common, log)
            finally:
                rss.__exit__()
                chat.close()
        if ingest_folder is not None:  # last: the ingest adds documents to the benchmark's library
            chat = ChatModel(model_paths[0], context_size=settings.context_size, threads=threads)
            try:
                with Engine(root, settings=settings, embedder=embedder, chat=chat, passphrase=passphrase) as engine:
                    answerable = [q for q in questions if not q.impossible]
                    report["during_ingest"] = {"model": chat.name, **during_ingest(engine, answerable, ingest_folder,
                                                                                    log=log)}
            finally:
                chat.close()
    finally:
        if temporary and root is not None:
            shutil.rmtree(root, ignore_errors=True)
    return report
