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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.chunker import chunk_text
from app.core.config import Settings
from app.core.embedder import Embedder
from app.core.errors import Cancelled, ParseError, SanctumError
from app.core.library import READY, Library
from app.core.parse_pool import ParserPool
from app.core.parsers import SUPPORTED_SUFFIXES, refusal_reason
from app.core.parsers.base import ParsedDocument
from app.core.store import StoredChunk, VectorStore

if TYPE_CHECKING:
    from app.core.audit import AuditLog

INGESTED, UNCHANGED, FAILED, SKIPPED = "ingested", "unchanged", "failed", "skipped"
_LOOKAHEAD = 2  # files parsed ahead of the one being embedded (bounds memory)


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
        audit: Records documents added and removed.
        removal_hooks: Called with a doc_id when a document's content is forgotten (other indexes).
    """

    def __init__(self, *, library: Library, store: VectorStore, embedder: Embedder, settings: Settings,
                 audit: AuditLog | None = None, removal_hooks: Sequence[Callable[[str], None]] = ()) -> None:
        self.library = library
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.audit = audit
        self.removal_hooks = removal_hooks
        self.embedder_id = store.embedder_id
        self.recover()

    def recover(self) -> list[Path]:
        """Remove half-written chunks of documents whose indexing was interrupted."""
        cleaned = []
        for doc in self.library.interrupted():
            self._forget(doc.doc_id)
            cleaned.append(Path(doc.path))
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
                        if child.suffix.lower() in SUPPORTED_SUFFIXES:
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
            on_file: Called with each file's outcome as soon as it is known.
            progress: Called as work advances.
            cancelled: Polled between steps; when it returns True the batch stops cleanly (the
                file in hand is left as it was before).
        """
        paths = list(paths)
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
                    parsed = pool.result(future)  # type: ignore[arg-type]
                    fill()
                    outcome = self._store(path, st, digest, parsed, started, done, total, progress, cancelled)
                except Cancelled:
                    raise
                except SanctumError as exc:
                    fill()
                    self.library.mark_failed(path, error=str(exc), size=st.st_size, mtime_ns=st.st_mtime_ns)
                    outcome = FileOutcome(path, FAILED, str(exc), seconds=time.perf_counter() - started)
                done += 1
                outcomes.append(outcome)
                if on_file:
                    on_file(outcome)
                if progress:
                    progress(IngestProgress(done, total, None, "done"))
        finally:
            pool.close()
        return outcomes

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
    ) -> FileOutcome:
        if progress:
            progress(IngestProgress(done, total, path, "chunking"))
        tokenizer = self.embedder.tokenizer
        size = min(self.settings.chunk_tokens, self.embedder.content_tokens)
        overlap = min(self.settings.chunk_overlap, size // 4)
        pieces = []
        for s_index, section in enumerate(parsed.sections):
            for piece in chunk_text(section.text, tokenizer, size=size, overlap=overlap):
                pieces.append((s_index, section, piece))
        if not pieces:
            raise ParseError("no text found in this file")
        if progress:
            progress(IngestProgress(done, total, path, "embedding"))
        vectors = self.embedder.embed([p.text for _, _, p in pieces], cancelled=cancelled)
        if progress:
            progress(IngestProgress(done, total, path, "storing"))
        doc_id = self.library.mark_indexing(
            path, content_hash=digest, size=st.st_size, mtime_ns=st.st_mtime_ns, embedder=self.embedder_id
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
        self.library.mark_ready(
            doc_id, format=parsed.format, title=parsed.title, page_count=parsed.page_count, chunk_count=len(chunks)
        )
        if self.audit:
            from app.core.audit import DOCUMENT_ADDED

            self.audit.record(DOCUMENT_ADDED, doc_id=doc_id, path=str(path), format=parsed.format,
                              chunks=len(chunks), sha256=digest)
        return FileOutcome(
            path, INGESTED, chunks=len(chunks), pages=parsed.page_count, seconds=time.perf_counter() - started
        )

    def remove(self, path: Path) -> bool:
        """Remove a document and every chunk of it; False when it was not in the library."""
        doc = self.library.get(Path(path).expanduser().resolve())
        if doc is None:
            return False
        self._forget(doc.doc_id)
        if self.audit:
            from app.core.audit import DOCUMENT_REMOVED

            self.audit.record(DOCUMENT_REMOVED, doc_id=doc.doc_id, path=doc.path)
        return True

    def _forget(self, doc_id: str) -> None:
        """Drop a document's chunks, vectors, other index entries and its key (see Library.delete)."""
        self.store.delete_document(doc_id)
        for hook in self.removal_hooks:
            hook(doc_id)
        self.library.delete(doc_id)
