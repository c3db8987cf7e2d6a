"""The document registry: which files are in the library, and in what state.

A small SQLite database beside the vector store. A document's row is written as ``indexing``
before its chunks change and as ``ready`` after, so a crash in between is found on the next
open and the half-written chunks are removed (see :meth:`Library.interrupted`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id       TEXT PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    content_hash TEXT,
    size         INTEGER,
    mtime_ns     INTEGER,
    format       TEXT,
    title        TEXT,
    page_count   INTEGER,
    chunk_count  INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    error        TEXT,
    embedder     TEXT,
    added_at     REAL NOT NULL,
    updated_at   REAL NOT NULL
);
"""

READY, INDEXING, FAILED = "ready", "indexing", "failed"


@dataclass(frozen=True)
class Document:
    """One file known to the library."""

    doc_id: str
    path: str
    content_hash: str | None
    size: int | None
    mtime_ns: int | None
    format: str | None
    title: str | None
    page_count: int | None
    chunk_count: int
    status: str
    error: str | None
    embedder: str | None
    added_at: float
    updated_at: float

    @property
    def name(self) -> str:
        return Path(self.path).name


def doc_id_for(path: Path) -> str:
    """A stable id for a file path (the same file keeps its id when its content changes)."""
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:20]


class Library:
    """The registry of documents, in ``library.sqlite3`` under the data directory."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def get(self, path: Path) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE path = ?", (str(path),)).fetchone()
        return Document(**dict(row)) if row else None

    def by_id(self, doc_id: str) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(**dict(row)) if row else None

    def all(self, status: str | None = None) -> list[Document]:
        if status:
            rows = self._db.execute("SELECT * FROM documents WHERE status = ? ORDER BY path", (status,))
        else:
            rows = self._db.execute("SELECT * FROM documents ORDER BY path")
        return [Document(**dict(r)) for r in rows]

    def children(self, path: Path, separator: str) -> list[Document]:
        """Documents stored from inside the file at ``path`` (attachments, archive members): those
        whose path is ``path``, ``separator``, then their name inside it."""
        prefix = f"{path}{separator}"
        rows = self._db.execute(
            "SELECT * FROM documents WHERE substr(path, 1, ?) = ? ORDER BY path", (len(prefix), prefix)
        )
        return [Document(**dict(r)) for r in rows]

    def interrupted(self) -> list[Document]:
        """Documents whose indexing was cut short (crash, kill) and must be cleaned up."""
        return self.all(INDEXING)

    def mark_indexing(self, path: Path, *, content_hash: str, size: int, mtime_ns: int, embedder: str) -> str:
        """Record that a file's chunks are about to change; returns its doc_id."""
        doc_id = doc_id_for(path)
        now = time.time()
        with self._tx() as db:
            db.execute(
                """INSERT INTO documents (doc_id, path, content_hash, size, mtime_ns, status, embedder,
                                          added_at, updated_at, error, chunk_count)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)
                   ON CONFLICT(doc_id) DO UPDATE SET content_hash=excluded.content_hash,
                     size=excluded.size, mtime_ns=excluded.mtime_ns, status=excluded.status,
                     embedder=excluded.embedder, updated_at=excluded.updated_at, error=NULL""",
                (doc_id, str(path), content_hash, size, mtime_ns, INDEXING, embedder, now, now),
            )
        return doc_id

    def mark_ready(
        self, doc_id: str, *, format: str, title: str | None, page_count: int | None, chunk_count: int
    ) -> None:
        with self._tx() as db:
            db.execute(
                """UPDATE documents SET status=?, format=?, title=?, page_count=?, chunk_count=?,
                   updated_at=?, error=NULL WHERE doc_id=?""",
                (READY, format, title, page_count, chunk_count, time.time(), doc_id),
            )

    def mark_failed(self, path: Path, *, error: str, size: int | None, mtime_ns: int | None) -> str:
        """Record a file that could not be ingested, with the reason (shown in the library)."""
        doc_id = doc_id_for(path)
        now = time.time()
        with self._tx() as db:
            db.execute(
                """INSERT INTO documents (doc_id, path, size, mtime_ns, status, error, added_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(doc_id) DO UPDATE SET status=excluded.status, error=excluded.error,
                     size=excluded.size, mtime_ns=excluded.mtime_ns, content_hash=NULL,
                     chunk_count=0, updated_at=excluded.updated_at""",
                (doc_id, str(path), size, mtime_ns, FAILED, error, now, now),
            )
        return doc_id

    def touch(self, doc_id: str, *, size: int, mtime_ns: int) -> None:
        """Remember a new mtime for a file whose content did not change."""
        self._db.execute("UPDATE documents SET size=?, mtime_ns=? WHERE doc_id=?", (size, mtime_ns, doc_id))

    def delete(self, doc_id: str) -> None:
        self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
