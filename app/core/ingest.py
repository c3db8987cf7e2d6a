"""Ingestion: files and folders in, chunks with vectors and provenance out.

Per file: is it unchanged (size + mtime, then content hash)? -> nothing to do. Otherwise parse it
in the worker process, chunk each section with the embedder's tokenizer, embed, and replace the
document's chunks in the store. While one file is embedded the worker already parses the next.
One broken file is reported with its reason and the batch goes on.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.core.chunker import Chunk, chunk_text
from app.core.config import Settings
from app.core.embedder import Embedder
from app.core.errors import Cancelled, ParseError, PasswordRequired, SanctumError
from app.core.keywords import KeywordIndex
from app.core.library import READY, Library
from app.core.parse_pool import ParserPool
from app.core.parsers import is_supported, refusal_reason
from app.core.parsers.base import NESTED_SEPARATOR, ParsedDocument, Section
from app.core.recovery import damaged_documents
from app.core.store import StoredChunk, VectorStore
from app.core.textitems import HEADER_TOKENS, context_header, with_header

if TYPE_CHECKING:
    from app.core.audit import AuditLog

INGESTED, UNCHANGED, FAILED, SKIPPED = "ingested", "unchanged", "failed", "skipped"
_LOOKAHEAD = 2  # files parsed ahead of the one being embedded (bounds memory)
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
    """

    def __init__(
        self, *, library: Library, store: VectorStore, embedder: Embedder, settings: Settings,
        keywords: KeywordIndex | None = None, audit: AuditLog | None = None,
    ) -> None:
        self.library = library
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.keywords = keywords
        self.audit = audit
        self.embedder_id = store.embedder_id
        self.recover()

    def recover(self) -> list[Path]:
        """Undo what a crash or kill left half done, so the next run redoes it from scratch.

        Removes the chunks and the record of documents whose indexing was interrupted, of
        documents whose chunks in the store do not match the registry, and stray chunks of no
        known document (see :mod:`app.core.recovery`).
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
            if path.is_dir():
                for root, dirs, names in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
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
            outcome = self._check_unchanged(path, reindex=reindex, started=started, todo=todo)
            if outcome:
                outcomes.append(outcome)
                if on_file:
                    on_file(outcome)
        if not todo:
            return outcomes
        pool = ParserPool(timeout_s=self.settings.parse_timeout_s)
        try:
            pending: deque[tuple[Path, os.stat_result, str, object, float]] = deque()
            queue = iter(todo)
            done = total - len(todo)

            def fill() -> None:
                while len(pending) < _LOOKAHEAD:
                    try:
                        path, st, digest = next(queue)
                    except StopIteration:
                        return
                    pending.append((path, st, digest, pool.submit(path, password=password), time.perf_counter()))

            fill()
            while pending:
                if cancelled and cancelled():
                    raise Cancelled("ingestion cancelled")
                path, st, digest, future, started = pending.popleft()
                if progress:
                    progress(IngestProgress(done, total, path, "reading"))
                try:
                    parsed = self._parsed(pool, future, path, password_for)  # type: ignore[arg-type]
                    fill()
                    # Children before the container: its "ready" row marks the whole file as done.
                    inner = self._store_children(path, st, digest, parsed, done, total, progress, cancelled,
                                                 library=library)
                    outcome = self._store(path, st, digest, parsed, started, done, total, progress, cancelled,
                                          library=library)
                except Cancelled:
                    raise
                except SanctumError as exc:
                    fill()
                    inner = []
                    self._forget_chunks(path)  # an older version must not stay searchable
                    self._drop_children(path)
                    self.library.mark_failed(path, error=str(exc), size=st.st_size, mtime_ns=st.st_mtime_ns,
                                             library=library)
                    outcome = FileOutcome(path, FAILED, str(exc), seconds=time.perf_counter() - started)
                done += 1
                for reported in (outcome, *inner):
                    outcomes.append(reported)
                    if on_file:
                        on_file(reported)
                if progress:
                    progress(IngestProgress(done, total, None, "done"))
        finally:
            pool.close()
            if self.keywords is not None:
                self.keywords.save()
        return outcomes

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

    def _store(
        self,
        path: Path,
        st: os.stat_result,
        digest: str,
        parsed: ParsedDocument,
        started: float,
        done: int,
        total: int,
        progress: Callable[[IngestProgress], None] | None,
        cancelled: Callable[[], bool] | None,
        *,
        library: str | None = None,
    ) -> FileOutcome:
        if progress:
            progress(IngestProgress(done, total, path, "chunking"))
        pieces = self.chunk(parsed)
        if not pieces:
            raise ParseError("no text found in this file")
        if progress:
            progress(IngestProgress(done, total, path, "embedding"))
        header = context_header(parsed.title, path)  # embedded in front of each chunk, and a keyword field
        embedded = header if self.settings.contextual_header else None
        vectors = self.embedder.embed([with_header(embedded, p.text) for _, _, p in pieces], cancelled=cancelled)
        if progress:
            progress(IngestProgress(done, total, path, "storing"))
        chunks = self.write(path, parsed, pieces, vectors, content_hash=digest, size=st.st_size,
                            mtime_ns=st.st_mtime_ns, header=header, library=library)
        return FileOutcome(
            path, INGESTED, chunks=len(chunks), pages=parsed.page_count, seconds=time.perf_counter() - started
        )

    def chunk(self, parsed: ParsedDocument) -> list[tuple[int, Section, Chunk]]:
        """Cut each section into chunks that fit the embedder (never across a page)."""
        tokenizer = self.embedder.tokenizer
        size = min(self.settings.chunk_tokens, self.embedder.content_tokens - HEADER_TOKENS)
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
        doc_id = self.library.mark_indexing(
            path, content_hash=content_hash, size=size, mtime_ns=mtime_ns, embedder=self.embedder_id,
            library=library,
        )
        chunks: list[StoredChunk] = []
        for seq, (s_index, section, piece) in enumerate(pieces):
            chunks.append(
                StoredChunk(
                    chunk_id=f"{doc_id}:{seq}",
                    doc_id=doc_id,
                    text=piece.text,
                    page=section.page,
                    label=section.label,
                    seq=seq,
                    start=piece.start,
                    end=piece.end,
                    section=s_index,
                )
            )
        self.store.delete_document(doc_id)
        self.store.add(chunks, vectors)
        if self.keywords is not None:
            self.keywords.replace_document(doc_id, [(c.chunk_id, c.text) for c in chunks], header=header,
                                           version=content_hash)
        self.library.mark_ready(
            doc_id, format=parsed.format, title=parsed.title, page_count=parsed.page_count, chunk_count=len(chunks)
        )
        if self.audit:
            from app.core.audit import DOCUMENT_ADDED

            self.audit.record(DOCUMENT_ADDED, doc_id=doc_id, path=str(path), format=parsed.format,
                              chunks=len(chunks), sha256=content_hash)
        return chunks

    def _store_children(
        self,
        path: Path,
        st: os.stat_result,
        digest: str,
        parsed: ParsedDocument,
        done: int,
        total: int,
        progress: Callable[[IngestProgress], None] | None,
        cancelled: Callable[[], bool] | None,
        *,
        library: str | None = None,
    ) -> list[FileOutcome]:
        """Store each attachment or archive member as a document of its own, at the derived path
        "container › name"; members the container no longer holds are removed."""
        kept: set[str] = set()
        outcomes: list[FileOutcome] = []
        for child in parsed.children:
            name = child.name
            serial = 2
            while name in kept:  # two attachments of the same name
                name, serial = f"{child.name} ({serial})", serial + 1
            kept.add(name)
            child_path = Path(f"{path}{NESTED_SEPARATOR}{name}")
            started = time.perf_counter()
            if child.document is None:
                status = SKIPPED if child.skipped else FAILED
                if status == FAILED:
                    self.library.mark_failed(child_path, error=child.error or "", size=None, mtime_ns=None,
                                             library=library)
                else:
                    self._forget(child_path)
                outcomes.append(FileOutcome(child_path, status, child.error))
                continue
            try:
                outcome = self._store(child_path, st, digest, child.document, started, done, total, progress,
                                      cancelled, library=library)
            except ParseError as exc:  # e.g. no text left after chunking
                self.library.mark_failed(child_path, error=str(exc), size=None, mtime_ns=None, library=library)
                outcome = FileOutcome(child_path, FAILED, str(exc))
            outcomes.append(outcome)
        for old in self.library.children(path, NESTED_SEPARATOR):
            if old.path[len(str(path)) + len(NESTED_SEPARATOR):] not in kept:
                self._forget(Path(old.path))
        return outcomes

    def _drop_children(self, path: Path) -> None:
        for old in self.library.children(path, NESTED_SEPARATOR):
            self._forget(Path(old.path))

    def _forget(self, path: Path) -> None:
        doc = self.library.get(path)
        if doc is not None:
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
        self._drop_children(path)
        self.library.begin_change(doc.doc_id)  # a kill from here on is finished by recover()
        self.store.delete_document(doc.doc_id)
        if self.keywords is not None:
            self.keywords.remove_document(doc.doc_id)
            self.keywords.save()
        self.library.delete(doc.doc_id)
        if self.audit:
            from app.core.audit import DOCUMENT_REMOVED

            self.audit.record(DOCUMENT_REMOVED, doc_id=doc.doc_id, path=doc.path)
        return True

    def _forget_chunks(self, path: Path) -> None:
        """Drop the chunks of a known document before it is recorded as failed."""
        doc = self.library.get(path)
        if doc is not None and doc.chunk_count:
            self.library.begin_change(doc.doc_id)
            self.store.delete_document(doc.doc_id)
            if self.keywords is not None:
                self.keywords.remove_document(doc.doc_id)
