"""``sanctum bench ingest``: end-to-end ingest against the raw encoder on exactly the same chunks.

A fresh library (a temporary data folder) ingests a corpus through the normal
:class:`~app.core.ingest.service.IngestService` (parse worker, chunking, embedding, Chroma, keyword index,
registry); every text handed to the embedder is recorded. In the same run the raw
``SentenceTransformer.encode`` then embeds exactly those texts with the same model and batch size.
The ratio of the two throughputs is the figure the issue sets (>= 0.9): it says how much parsing
and storing add to embedding.

The per-stage breakdown is main-thread wall time inside each stage, measured by thin wrappers
around the components the service is built from (nothing in the service is changed for it).
Parsing runs in a worker process ahead of the file being embedded, so "parse" is only the time the
service waited for it.

Corpora: ``scifact`` (BEIR SciFact's abstracts, each written as one small .txt file, as a user's
folder of short notes would be) or any folder of documents.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.engine import Engine
from app.core.ingest.service import FAILED, INGESTED, IngestService

STAGES = ("parse", "chunk", "embed", "store", "keywords", "registry")


class StageClock:
    """Wall time per stage, counted only on the thread that runs ingestion's main loop."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._active = threading.local()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if getattr(self._active, "name", None) is not None:  # nested: counted by the outer stage
            yield
            return
        self._active.name = name
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - t0
            self.calls[name] += 1
            self._active.name = None


class _Timed:
    """Delegates everything to ``inner``; the named methods are timed as ``stage``."""

    def __init__(self, inner: Any, clock: StageClock, methods: dict[str, str],
                 record: Callable[[str, tuple, dict], None] | None = None) -> None:
        self._inner, self._clock, self._methods, self._record = inner, clock, methods, record

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        stage = self._methods.get(name)
        if stage is None or not callable(value):
            return value

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._record is not None:
                self._record(name, args, kwargs)
            with self._clock.stage(stage):
                return value(*args, **kwargs)

        return timed


def _timed_service(engine: Engine, clock: StageClock, texts: list[str]) -> IngestService:
    """The engine's ingest service, built from timed wrappers of its components."""

    def record(name: str, args: tuple, kwargs: dict) -> None:
        if name == "embed":
            texts.extend(args[0])

    embedder = _Timed(engine.embedder, clock, {"embed": "embed"}, record)
    store = _Timed(engine.open_store(), clock, {"add": "store", "delete_document": "store"})
    keywords = _Timed(engine.keywords, clock, {"replace_document": "keywords", "remove_document": "keywords",
                                               "save": "keywords"})
    library = _Timed(engine.library, clock, {m: "registry" for m in (
        "get", "mark_indexing", "mark_ready", "mark_failed", "touch", "children", "delete", "begin_change")})

    class TimedLibrary(_Timed):
        @contextmanager
        def batch(self) -> Iterator[Any]:  # the commit (a disk sync) is registry time too
            with clock.stage("registry"), self._inner.batch() as db:
                yield db

    library = TimedLibrary(engine.library, clock, library._methods)

    class TimedIngestService(IngestService):
        @staticmethod
        def _parsed(*args: Any, **kwargs: Any) -> Any:
            with clock.stage("parse"):
                return IngestService._parsed(*args, **kwargs)

        def chunk(self, parsed: Any, **options: Any) -> Any:
            with clock.stage("chunk"):
                return super().chunk(parsed, **options)

    return TimedIngestService(library=library, store=store, embedder=embedder,  # type: ignore[arg-type]
                              settings=engine.settings, keywords=keywords)  # type: ignore[arg-type]


def write_scifact(corpus: Path, folder: Path, *, limit: int | None) -> int:
    """Write BEIR SciFact's abstracts as one small text file each (title, blank line, abstract)."""
    from app.bench.beir import _jsonl

    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for _, obj in _jsonl(corpus / "corpus.jsonl"):
        if limit is not None and n >= limit:
            break
        title, text = (obj.get("title") or "").strip(), str(obj.get("text") or "")
        (folder / f"{obj['_id']}.txt").write_text(f"{title}\n\n{text}\n" if title else text, encoding="utf-8")
        n += 1
    return n


def run(
    corpus: str, *, limit: int | None = None, batch_size: int | None = None, scifact_dir: Path,
    embedding_model: Path | None = None, passphrase: Any = None, log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Ingest the corpus in a fresh library, then encode the same texts raw; returns the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="sanctum-bench-ingest-"))
    try:
        if corpus == "scifact":
            source = tmp / "scifact"
            files = write_scifact(scifact_dir, source, limit=limit)
            name = f"scifact ({files} abstracts as .txt files)"
        else:
            source = Path(corpus).expanduser().resolve()
            if not source.is_dir():
                from app.bench.beir import BenchmarkError

                raise BenchmarkError(f"{corpus}: not a folder (use --corpus scifact or a folder of documents)")
            name = str(source)
        engine = Engine(tmp / "home", settings=Settings(), embedding_model=embedding_model, passphrase=passphrase)
        try:
            embedder = engine.embedder
            if batch_size:
                embedder.batch_size = batch_size
            clock, texts = StageClock(), []
            service = _timed_service(engine, clock, texts)
            embedder.embed(["warm-up"])  # first call pays one-off costs in both runs alike
            log(f"ingesting {name} …")
            t0, c0 = time.perf_counter(), _cpu()
            outcomes = service.ingest([source])
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            chunks = engine.store.count()
            log(f"encoding the same {len(texts)} texts with SentenceTransformer.encode …")
            c0 = _cpu()
            raw_s = _raw_encode(embedder, texts)
            raw_cpu = _cpu() - c0
        finally:
            engine.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in (INGESTED, FAILED)}
    stages = {s: round(clock.seconds.get(s, 0.0), 3) for s in STAGES}
    stages["other"] = round(wall - sum(clock.seconds.values()), 3)
    sanctum_rate = len(texts) / wall if wall else 0.0
    raw_rate = len(texts) / raw_s if raw_s else 0.0
    return {
        "benchmark": "ingest", "corpus": name, "model": embedder.name, "batch_size": embedder.batch_size,
        "files": len(outcomes), "ingested": counts[INGESTED], "failed": counts[FAILED], "chunks": chunks,
        "texts_embedded": len(texts), "sanctum_s": round(wall, 3), "raw_encode_s": round(raw_s, 3),
        "sanctum_chunks_per_s": round(sanctum_rate, 2), "raw_chunks_per_s": round(raw_rate, 2),
        "ratio": round(sanctum_rate / raw_rate, 3) if raw_rate else None,
        "sanctum_cpu_s": round(cpu, 2), "raw_cpu_s": round(raw_cpu, 2),
        "cpu_ratio": round(raw_cpu / cpu, 3) if cpu else None,
        "stages_s": stages, "embed_calls": clock.calls.get("embed", 0),
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the parse worker), all threads."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _raw_encode(embedder: Any, texts: Sequence[str]) -> float:
    model = embedder._model  # the same loaded SentenceTransformer: the raw library, nothing of ours
    t0 = time.perf_counter()
    model.encode(list(texts), batch_size=embedder.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                 show_progress_bar=False)
    return time.perf_counter() - t0


def table(r: dict[str, Any]) -> str:
    lines = [
        f"ingest: {r['corpus']}, {r['model']}, batch {r['batch_size']}",
        f"  files {r['files']} (ingested {r['ingested']}, failed {r['failed']}), chunks {r['chunks']}, "
        f"embed calls {r['embed_calls']}",
        f"{'':24}{'seconds':>10}{'chunks/s':>10}{'CPU s':>10}",
        f"{'raw encode':24}{r['raw_encode_s']:>10.2f}{r['raw_chunks_per_s']:>10.1f}{r['raw_cpu_s']:>10.1f}",
        f"{'Sanctum ingest':24}{r['sanctum_s']:>10.2f}{r['sanctum_chunks_per_s']:>10.1f}{r['sanctum_cpu_s']:>10.1f}",
        f"{'ratio Sanctum/raw':24}{'':>10}{r['ratio']:>10.3f}{r['cpu_ratio']:>10.3f}",
        "stages (main thread wall time, s):",
    ]
    total = r["sanctum_s"] or 1.0
    for stage, seconds in r["stages_s"].items():
        lines.append(f"  {stage:22}{seconds:>10.2f}{100 * seconds / total:>9.1f}%")
    return "\n".join(lines)
