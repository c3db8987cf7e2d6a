"""Ingestion: files and folders in, chunks with vectors and provenance out.

Per file: is it unchanged (size + mtime, then content hash)? -> nothing to do. Otherwise parse it
in the worker process, chunk each section with the embedder's tokenizer, embed, and replace the
document's chunks in the store. While one file is embedded the worker already parses the next.
One broken file is reported with its reason and the batch goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.core.config import Settings
from app.core.errors import Cancelled, ParseError, PasswordRequired, SanctumError
from app.core.ingest.chunker import Chunk, chunk_text
from app.core.ingest.parse_pool import ParserPool
from app.core.ingest.parsers import is_supported, refusal_reason
from app.core.ingest.parsers.base import NESTED_SEPARATOR, ParsedDocument, Section
from app.core.ingest.parsers.context import document_identity, heading_at, section_headings
from app.core.ingest.recovery import damaged_documents
from app.core.models.cpu import CpuGate
from app.core.models.embedder import Embedder
from app.core.storage.headers import HEADER_TOKENS, context_header, with_header
from app.core.storage.keywords import KeywordIndex
from app.core.storage.registry import READY, Library
from app.core.storage.vectors import StoredChunk, VectorStore
from app.core.values import Document

if TYPE_CHECKING:
    from app.core.privacy.audit import AuditLog

INGESTED, UNCHANGED, FAILED, SKIPPED = "ingested", "unchanged", "failed", "skipped"
_LOOKAHEAD_FILES = 64  # files parsed ahead of the ones being embedded ...
_LOOKAHEAD_BYTES = 32 << 20  # ... as long as they are small (bounds memory)
_BATCH_CHUNKS = 256  # chunks of several small files embedded in one call
_PASSWORD_TRIES = 3  # passwords asked for one file before it is reported as failed


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file.

    Attributes:
        path: The file.
        status: "ingested", "unchanged", "failed" or "skipped" (a folder's unsupported file).
        reason: Why it failed or was skipped; None otherwise.
        chunks: Chunks now stored for it.
        pages: Pages/slides/sheets, where the format has them.
        seconds: Time spent on it.
    """

    path: Path
    status: str
    reason: str | None = None
    chunks: int = 0
    pages: int | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class IngestProgress:
    """Where a batch stands, for a progress bar."""

    done: int
    total: int
    current: Path | None
    stage: str


@dataclass
class _Unit:
    """One document ready to embed: the file itself or one of its members."""

    parsed: ParsedDocument
    pieces: list[tuple[int, Section, Chunk]]
    header: str | None
    texts: list[str]
    vectors: np.ndarray | None = None
    headings: list[str] | None = None  # each chunk's section heading in a paged document (None: not paged)


@dataclass
class _Job:
    """A parsed file waiting in the embedding batch (or the reason it could not be read)."""

    path: Path
    st: os.stat_result
    digest: str
    started: float
    parsed: ParsedDocument | None = None
    unit: _Unit | None = None
    children: list[_Unit | ParseError | None] = field(default_factory=list)  # None: not a document
    error: SanctumError | None = None

    def units(self) -> list[_Unit]:
        found = [c for c in self.children if isinstance(c, _Unit)]
        return found + ([self.unit] if self.unit is not None else [])

    @property
    def size(self) -> int:
        """Chunks to embed."""
        return sum(len(u.texts) for u in self.units())


@dataclass
class _Write:
    """One document to write: where it goes, its embedded chunks, and what the file was."""

    path: Path
    unit: _Unit
    digest: str
    size: int
    mtime_ns: int
    started: float = 0.0
    pages: int | None = None

    def outcome(self, job: _Job) -> FileOutcome:
        pages = job.parsed.page_count if self.path == job.path and job.parsed else self.pages
        return FileOutcome(self.path, INGESTED, chunks=len(self.unit.pieces), pages=pages,
                           seconds=time.perf_counter() - self.started)


PAGED_HEADER_TOKENS = 64  # word-pieces kept free for identity + section heading (about 240 characters)
_PAGED_HEADER_CHARS = 240


def _cap(text: str) -> str:
    return text if len(text) <= _PAGED_HEADER_CHARS else text[:_PAGED_HEADER_CHARS].rsplit(" ", 1)[0] + "…"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _is_hidden(path: Path) -> bool:
    return path.name.startswith((".", "~$"))


class IngestService:
    """Adds, updates and removes documents.

    Args:
        library: The document registry.
        store: The vector store.
        embedder: Gives chunk sizes (tokenizer) and vectors.
        settings: Chunk size/overlap and the per-file time limit.
        keywords: The keyword index kept beside the store (None: dense search only).
        audit: Records documents added and removed.
        cpu: Answers come first: embedding waits between batches while one is being written.
        pool: The process's parser pool (not closed here); without it each batch starts its own.

    Thread rule: one batch at a time per service (the GUI runs batches in its ingest lane); the
    stores, the embedder and the parser pool it uses may be shared with other threads.

    Recovery from a crash (:meth:`recover`) is not run here: the engine runs it once per store it
    opens (:meth:`app.core.engine.Engine.ingest_service`), not on every batch.
    """

    def __init__(
        self, *, library: Library, store: VectorStore, embedder: Embedder, settings: Settings,
        keywords: KeywordIndex | None = None, audit: AuditLog | None = None, cpu: CpuGate | None = None,
        on_removed: Callable[[list[str]], None] | None = None,
        pool: ParserPool | None = None, data_root: Path | None = None,
    ) -> None:
        self.library = library
        # Sanctum's own data folder is never read as documents (its files are ciphertext, or the
        # audit log), even when it sits inside a folder the user adds.
        self.data_root = data_root.expanduser().resolve() if data_root else None
        self.cpu = cpu  # answers come first: embedding waits between batches while one is written
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.keywords = keywords
        self.audit = audit
        self.embedder_id = store.embedder_id
        self._deferred = 0  # > 0 inside removals(): compact once at the end
        self._on_removed = on_removed  # forgets removed documents elsewhere (saved conversations)
        self._removed: list[str] = []
        self._pool = pool  # shared with the process (the engine's); else one per batch

    def recover(self) -> list[Path]:
        """Undo what a crash or kill left half done, so the next run redoes it from scratch.

        Removes the chunks and the record of documents whose indexing was interrupted, of
        documents whose chunks in the store do not match the registry, and stray chunks of no
        known document (see :mod:`app.core.ingest.recovery`).
        """
        cleaned = []
        for doc_id, path in damaged_documents(self.library, self.store):
            self.store.delete_document(doc_id)
            if self.keywords is not None:
                self.keywords.remove_document(doc_id)
            self.library.delete(doc_id)
            if path is not None:
                cleaned.append(path)
        return cleaned

    @contextlib.contextmanager
    def removals(self) -> Iterator[None]:
        """Several removals, then one compaction (see :meth:`forget_removed`) instead of one each."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            self.forget_removed()

    def forget_removed(self) -> None:
        """Make removals and re-indexes final on disk: the store is rewritten without the deleted
        vectors and the library's WAL emptied of replaced keys (nothing to do when nothing was deleted)."""
        if self._deferred:
            return
        removed, self._removed = self._removed, []
        if removed and self._on_removed is not None:
            self._on_removed(removed)
        if self.store.compact():
            self.library.checkpoint()

    def expand(self, paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
        """Turn files and folders into the files to ingest, plus outcomes for what can't be.

        Folders are walked recursively in name order; hidden files and files of unsupported types
        found inside a folder are "skipped". A named path that does not exist "failed".
        """
        files: list[Path] = []
        outcomes: list[FileOutcome] = []
        seen: set[Path] = set()
        for raw in paths:
            path = Path(raw).expanduser().resolve()
            if self._is_own(path):
                outcomes.append(FileOutcome(path, SKIPPED, "this is Sanctum's own data folder, not a document"))
                continue
            if path.is_dir():
                for root, dirs, names in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not self._is_own(Path(root) / d))
                    for name in sorted(names):
                        child = Path(root) / name
                        if _is_hidden(child) or child in seen:
                            continue
                        seen.add(child)
                        if is_supported(child):
                            files.append(child)
                        else:
                            outcomes.append(FileOutcome(child, SKIPPED, refusal_reason(child)))
            elif path.is_file():
                if path not in seen:
                    seen.add(path)
                    files.append(path)
            else:
                outcomes.append(FileOutcome(path, FAILED, "no such file or folder"))
        return files, outcomes

    def _is_own(self, path: Path) -> bool:
        return self.data_root is not None and (path == self.data_root or self.data_root in path.parents)

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        reindex: bool = False,
        password: str | None = None,
        password_for: Callable[[Path], str | None] | None = None,
        library: str | None = None,
        on_file: Callable[[FileOutcome], None] | None = None,
        progress: Callable[[IngestProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[FileOutcome]:
        """Ingest files and folders; returns one outcome per file, in order.

        Args:
            paths: Files and folders.
            reindex: Re-embed every known document and these paths, even when unchanged (after
                switching the embedding model).
            password: Tried on encrypted documents.
            password_for: Asked for the password of an encrypted file that ``password`` does not
                open (a GUI dialog, a terminal prompt); None skips the file. It runs in this
                process, never in the parse worker, and may be asked again after a wrong password.
            library: The library the files go to (it must exist); None keeps known documents
                where they are and puts new ones in the default library.
            on_file: Called with each file's outcome as soon as it is known.
            progress: Called as work advances.
            cancelled: Polled between steps; when it returns True the batch stops cleanly (the
                file in hand is left as it was before).
        """
        paths = list(paths)
        if library is not None:
            self.library.require_library(library)
        if reindex:  # the vectors of every known document must be rebuilt, not only the named ones
            paths += [Path(doc.path) for doc in self.library.all() if Path(doc.path).exists()]
        files, outcomes = self.expand(paths)
        for outcome in outcomes:
            if on_file:
                on_file(outcome)
        total = len(files)
        todo: list[tuple[Path, os.stat_result, str]] = []
        for index, path in enumerate(files):
            started = time.perf_counter()
            if progress:
                progress(IngestProgress(index, total, path, "checking"))
            unchanged = self._check_unchanged(path, reindex=reindex, started=started, todo=todo)
            if unchanged:
                outcomes.append(unchanged)
                if on_file:
                    on_file(unchanged)
        if not todo:
            return outcomes
        pool = self._pool or ParserPool(timeout_s=self.settings.parse_timeout_s)
        try:
            pending: deque[tuple[Path, os.stat_result, str, object, float]] = deque()
            queue = iter(todo)
            done = total - len(todo)
            batch: list[_Job] = []

            def fill() -> None:
                # Parse ahead of embedding: a few large files, or many small ones (bounded memory).
                while len(pending) < _LOOKAHEAD_FILES and (
                        not pending or sum(p[1].st_size for p in pending) < _LOOKAHEAD_BYTES):
                    try:
                        path, st, digest = next(queue)
                    except StopIteration:
                        return
                    pending.append((path, st, digest, pool.submit(path, password=password), time.perf_counter()))

            def flush() -> None:
                nonlocal done
                self._embed_jobs(batch, done, total, progress, cancelled)
                if progress:
                    progress(IngestProgress(done, total, batch[-1].path, "storing"))
                for reported_by_file in self._store_jobs(batch, library=library):
                    for reported in reported_by_file:
                        outcomes.append(reported)
                        if on_file:
                            on_file(reported)
                    done += 1
                    if progress:
                        progress(IngestProgress(done, total, None, "done"))
                batch.clear()

            fill()
            while pending:
                if cancelled and cancelled():
                    raise Cancelled("ingestion cancelled")
                path, st, digest, future, started = pending.popleft()
                if progress:
                    progress(IngestProgress(done + len(batch), total, path, "reading"))
                try:
                    parsed = self._parsed(pool, future, path, password_for)
                    fill()
                    if progress:
                        progress(IngestProgress(done + len(batch), total, path, "chunking"))
                    batch.append(self._prepare_job(path, st, digest, parsed, started))
                except Cancelled:
                    raise
                except SanctumError as exc:
                    fill()
                    batch.append(_Job(path, st, digest, started, error=exc))
                # Small files are embedded together: one large batch keeps the encoder busy.
                if sum(job.size for job in batch) >= self._batch_target() or not pending:
                    flush()
        finally:
            for *_, queued, _ in pending:  # cancelled or failed: the shared worker drops what is queued
                queued.cancel()  # type: ignore[attr-defined]
            if pool is not self._pool:
                pool.close()
            if self.keywords is not None:
                self.keywords.save()
            self.forget_removed()  # a changed file's old vectors and key
        return outcomes

    def _batch_target(self) -> int:
        """Chunks gathered across files before they are embedded in one call."""
        return max(_BATCH_CHUNKS, self.embedder.batch_size)

    def _prepare_job(self, path: Path, st: os.stat_result, digest: str, parsed: ParsedDocument,
                     started: float) -> _Job:
        """Chunk a parsed file and its members; a file without text fails here, before embedding."""
        job = _Job(path, st, digest, started, parsed=parsed, unit=self._prepare(path, parsed))
        for child in parsed.children:
            if child.document is not None:
                try:
                    job.children.append(self._prepare(path, child.document))
                except ParseError as exc:  # e.g. no text left after chunking
                    job.children.append(exc)
            else:
                job.children.append(None)
        return job

    def _prepare(self, path: Path, parsed: ParsedDocument) -> _Unit:
        paged = any(s.page is not None for s in parsed.sections)
        pieces = self.chunk(parsed, header_tokens=PAGED_HEADER_TOKENS if paged else HEADER_TOKENS)
        if not pieces:
            raise ParseError("no text found in this file")
        if not paged:
            header = context_header(parsed.title, path)  # embedded in front of each chunk, and a keyword field
            embedded = header if self.settings.contextual_header else None
            return _Unit(parsed, pieces, header, [with_header(embedded, p.text) for _, _, p in pieces])
        # A long paged document: each chunk carries who and what the document is (company, form,
        # period) and the section it sits in ("Item 7. … › Consolidated Balance Sheets").
        header = document_identity(parsed, path, title=parsed.title).text()
        marks = section_headings(parsed)
        headings = [heading_at(marks[s_index], piece.start) for s_index, _, piece in pieces]
        contexts = [_cap(" · ".join(p for p in (header, h) if p)) or None for h in headings]
        texts = [with_header(c if self.settings.contextual_header else None, p.text)
                 for c, (_, _, p) in zip(contexts, pieces, strict=True)]
        return _Unit(parsed, pieces, header, texts, headings=headings)

    def _embed_jobs(self, jobs: list[_Job], done: int, total: int,
                    progress: Callable[[IngestProgress], None] | None, cancelled: Callable[[], bool] | None) -> None:
        """Embed every chunk of the batch in one call and hand each document its vectors."""
        units = [u for job in jobs for u in job.units()]
        texts = [t for u in units for t in u.texts]
        if not texts:
            return
        if progress:
            progress(IngestProgress(done, total, jobs[-1].path, "embedding"))
        cpu = self.cpu
        pause = (lambda: cpu.wait_turn(cancelled)) if cpu is not None else None
        try:
            vectors = self.embedder.embed(texts, cancelled=cancelled, pause=pause)
        finally:
            if cpu is not None:
                cpu.step_done()
        start = 0
        for unit in units:
            unit.vectors = vectors[start : start + len(unit.texts)]
            start += len(unit.texts)

    @staticmethod
    def _parsed(
        pool: ParserPool, future: object, path: Path, password_for: Callable[[Path], str | None] | None
    ) -> ParsedDocument:
        """The parse result; an encrypted file is parsed again with each password ``password_for`` gives."""
        try:
            return pool.result(future)  # type: ignore[arg-type]
        except PasswordRequired as exc:
            if password_for is None:
                raise
            last = exc
        tried: set[str] = set()
        while len(tried) < _PASSWORD_TRIES:
            password = password_for(path)
            if not password or password in tried:
                break
            tried.add(password)
            try:
                return pool.result(pool.submit(path, password=password))
            except PasswordRequired as exc:
                last = exc
        raise last

    def _check_unchanged(
        self, path: Path, *, reindex: bool, started: float, todo: list[tuple[Path, os.stat_result, str]]
    ) -> FileOutcome | None:
        try:
            st = path.stat()
            known = self.library.get(path)
            fresh = known is not None and known.status == READY and known.embedder == self.embedder_id and not reindex
            if fresh and known and known.size == st.st_size and known.mtime_ns == st.st_mtime_ns:
                return FileOutcome(path, UNCHANGED, chunks=known.chunk_count, pages=known.page_count)
            digest = file_hash(path)
        except OSError as exc:
            return FileOutcome(path, FAILED, f"cannot read the file: {exc.strerror or exc}")
        if fresh and known and known.content_hash == digest:
            self.library.touch(known.doc_id, size=st.st_size, mtime_ns=st.st_mtime_ns)
            return FileOutcome(path, UNCHANGED, chunks=known.chunk_count, pages=known.page_count,
                               seconds=time.perf_counter() - started)
        todo.append((path, st, digest))
        return None

    def _store_jobs(self, jobs: list[_Job], *, library: str | None) -> list[list[FileOutcome]]:
        """Store a batch of embedded files with one write to the store; returns each file's outcomes
        (the file's own first, then its members').

        Per file, members that are not documents are recorded and members the file no longer holds
        are removed before anything is written; then every document of the batch is written by
        :meth:`write_many` (members before their container, whose "ready" row marks the whole file
        as done). A file that could not be read is recorded as failed.
        """
        results: list[list[FileOutcome]] = []
        writes: list[_Write] = []
        planned: list[tuple[_Job, list[FileOutcome | _Write]] | None] = []
        for job in jobs:
            if job.error is not None:
                results.append(self._fail(job, job.error, library=library))
                planned.append(None)
                continue
            assert job.parsed is not None and job.unit is not None
            members = self._plan_children(job, library=library)
            own = _Write(job.path, job.unit, job.digest, job.st.st_size, job.st.st_mtime_ns, job.started)
            writes += [w for w in members if isinstance(w, _Write)] + [own]
            planned.append((job, [own, *members]))
            results.append([])
        self.write_many(writes, library=library)
        for index, plan in enumerate(planned):
            if plan is not None:
                job, items = plan
                results[index] = [item if isinstance(item, FileOutcome) else item.outcome(job) for item in items]
        return results

    def _fail(self, job: _Job, exc: SanctumError, *, library: str | None) -> list[FileOutcome]:
        self._forget_chunks(job.path)  # an older version must not stay searchable
        self._drop_children(job.path)
        self.library.mark_failed(job.path, error=str(exc), size=job.st.st_size, mtime_ns=job.st.st_mtime_ns,
                                 library=library)
        return [FileOutcome(job.path, FAILED, str(exc), seconds=time.perf_counter() - job.started)]

    def chunk(self, parsed: ParsedDocument, *, header_tokens: int = HEADER_TOKENS) -> list[tuple[int, Section, Chunk]]:
        """Cut each section into chunks that fit the embedder after a header of ``header_tokens``
        (never across a page)."""
        tokenizer = self.embedder.tokenizer
        size = min(self.settings.chunk_tokens, self.embedder.content_tokens - header_tokens)
        overlap = min(self.settings.chunk_overlap, size // 4)
        pieces = []
        for s_index, section in enumerate(parsed.sections):
            for piece in chunk_text(section.text, tokenizer, size=size, overlap=overlap):
                pieces.append((s_index, section, piece))
        return pieces

    def write(
        self, path: Path, parsed: ParsedDocument, pieces: list[tuple[int, Section, Chunk]], vectors: np.ndarray,
        *, content_hash: str, size: int, mtime_ns: int, header: str | None, library: str | None = None,
    ) -> list[StoredChunk]:
        """Replace a document's chunks in the library, the store and the keyword index."""
        unit = _Unit(parsed, pieces, header, [], vectors)
        return self.write_many([_Write(path, unit, content_hash, size, mtime_ns)], library=library)[0]

    def write_many(self, writes: Sequence[_Write], *, library: str | None = None) -> list[list[StoredChunk]]:
        """Replace the chunks of several documents, with one write to the store for all of them.

        Every document is marked ``indexing`` before its chunks change and ``ready`` (in the order
        given) only once all the chunks and keywords are in: a kill at any moment leaves documents
        that are ``ready`` and complete, or ``indexing`` (undone by :meth:`recover`), or absent.
        """
        if not writes:
            return []
        chunks: list[StoredChunk] = []
        vectors = []
        per_doc: list[list[StoredChunk]] = []
        with self.library.batch():
            known = [self.library.get(w.path) is not None for w in writes]
            doc_ids = [self.library.mark_indexing(w.path, content_hash=w.digest, size=w.size, mtime_ns=w.mtime_ns,
                                                  embedder=self.embedder_id, library=library) for w in writes]
        for w, doc_id, was_known in zip(writes, doc_ids, known, strict=True):
            if was_known:  # recover() has removed the chunks of documents the registry lacks
                self.store.delete_document(doc_id)
            stored = [
                StoredChunk(chunk_id=f"{doc_id}:{seq}", doc_id=doc_id, text=piece.text, page=section.page,
                            label=section.label, seq=seq, start=piece.start, end=piece.end, section=s_index,
                            heading=None if w.unit.headings is None else w.unit.headings[seq])
                for seq, (s_index, section, piece) in enumerate(w.unit.pieces)
            ]
            assert w.unit.vectors is not None and len(w.unit.vectors) == len(stored)
            per_doc.append(stored)
            chunks += stored
            vectors.append(w.unit.vectors)
        self.store.add(chunks, np.concatenate(vectors))
        for w, doc_id, stored in zip(writes, doc_ids, per_doc, strict=True):
            if self.keywords is not None:
                # Each chunk with its section heading in front (paged documents); the document's header is a field.
                texts = [(c.chunk_id, with_header(c.heading or None, c.text)) for c in stored]
                self.keywords.replace_document(doc_id, texts, header=w.unit.header, version=w.digest)
        with self.library.batch():
            for w, doc_id, stored in zip(writes, doc_ids, per_doc, strict=True):
                parsed = w.unit.parsed
                self.library.mark_ready(doc_id, format=parsed.format, title=parsed.title,
                                        page_count=parsed.page_count, chunk_count=len(stored))
        if self.audit:
            from app.core.privacy.audit import DOCUMENT_ADDED

            for w, doc_id, stored in zip(writes, doc_ids, per_doc, strict=True):
                self.audit.record(DOCUMENT_ADDED, doc_id=doc_id, path_hmac=self.audit.path_hash(w.path),
                                  format=w.unit.parsed.format,
                                  chunks=len(stored), sha256=w.digest)
        return per_doc

    def _plan_children(self, job: _Job, *, library: str | None = None) -> list[FileOutcome | _Write]:
        """The attachments and archive members of a file, each a document of its own at the derived
        path "container › name": those to write, and the outcomes of those that are not documents
        (recorded now). Members the container no longer holds are removed."""
        path, parsed = job.path, job.parsed
        assert parsed is not None
        kept: set[str] = set()
        items: list[FileOutcome | _Write] = []
        for child, unit in zip(parsed.children, job.children, strict=True):
            name = child.name
            serial = 2
            while name in kept:  # two attachments of the same name
                name, serial = f"{child.name} ({serial})", serial + 1
            kept.add(name)
            child_path = Path(f"{path}{NESTED_SEPARATOR}{name}")
            if child.document is None:
                status = SKIPPED if child.skipped else FAILED
                if status == FAILED:
                    self.library.mark_failed(child_path, error=child.error or "", size=None, mtime_ns=None,
                                             library=library)
                else:
                    self._forget(child_path)
                items.append(FileOutcome(child_path, status, child.error))
            elif isinstance(unit, ParseError):
                self.library.mark_failed(child_path, error=str(unit), size=None, mtime_ns=None, library=library)
                items.append(FileOutcome(child_path, FAILED, str(unit)))
            else:
                assert unit is not None
                items.append(_Write(child_path, unit, job.digest, job.st.st_size, job.st.st_mtime_ns,
                                    time.perf_counter(), pages=child.document.page_count))
        for old in self.library.children(path, NESTED_SEPARATOR):
            if old.path[len(str(path)) + len(NESTED_SEPARATOR):] not in kept:
                self._forget(Path(old.path))
        return items

    def _drop_children(self, path: Path) -> None:
        for old in self.library.children(path, NESTED_SEPARATOR):
            self._forget(Path(old.path))

    def _forget(self, path: Path) -> None:
        doc = self.library.get(path)
        if doc is not None:
            self._removed.append(doc.doc_id)
            self.store.delete_document(doc.doc_id)
            if self.keywords is not None:
                self.keywords.remove_document(doc.doc_id)
            self.library.delete(doc.doc_id)

    def remove(self, path: Path) -> bool:
        """Remove a document and every chunk of it, and the documents stored from inside it
        (attachments, archive members); False when it was not in the library."""
        path = Path(path).expanduser().resolve()
        doc = self.library.get(path)
        if doc is None:
            return False
        self.remove_document(doc)
        return True

    def remove_document(self, doc: Document) -> None:
        """Remove a document known to the library (as :meth:`remove`), by its registry entry."""
        self._drop_children(Path(doc.path))
        self.library.begin_change(doc.doc_id)  # a kill from here on is finished by recover()
        self.store.delete_document(doc.doc_id)
        if self.keywords is not None:
            self.keywords.remove_document(doc.doc_id)
            self.keywords.save()
        self.library.delete(doc.doc_id)
        self._removed.append(doc.doc_id)
        if self.audit:
            from app.core.privacy.audit import DOCUMENT_REMOVED

            self.audit.record(DOCUMENT_REMOVED, doc_id=doc.doc_id, path_hmac=self.audit.path_hash(doc.path))
        self.forget_removed()

    def _forget_chunks(self, path: Path) -> None:
        """Drop the chunks of a known document before it is recorded as failed."""
        doc = self.library.get(path)
        if doc is not None and doc.chunk_count:
            self.library.begin_change(doc.doc_id)
            self.store.delete_document(doc.doc_id)
            if self.keywords is not None:
                self.keywords.remove_document(doc.doc_id)
