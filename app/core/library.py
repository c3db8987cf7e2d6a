"""The document registry: which files are in the library, and in what state.

A small SQLite database beside the vector store. A document's row is written as ``indexing``
before its chunks change and as ``ready`` after, so a crash in between is found on the next
open and the half-written chunks are removed (see :meth:`Library.interrupted`).

Privacy: paths, titles, content hashes and error messages are encrypted (a file name often
names a patient); a document's id is a keyed hash of its path, so it reveals nothing either.
Each document has its own random key (stored wrapped by the data key, replaced on every
re-index): its chunks in the vector store are encrypted with it, so removing the row destroys
the only key to any copy of the text the store keeps after deletion (crypto-shredding).
``secure_delete`` overwrites deleted rows; the WAL is truncated after a removal.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.crypto import KEY_BYTES, Cipher
from app.core.errors import ConfigError

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id       TEXT PRIMARY KEY,
    path         BLOB NOT NULL,
    doc_key      BLOB,
    content_hash BLOB,
    size         INTEGER,
    mtime_ns     INTEGER,
    format       TEXT,
    title        BLOB,
    page_count   INTEGER,
    chunk_count  INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    error        BLOB,
    embedder     TEXT,
    added_at     REAL NOT NULL,
    updated_at   REAL NOT NULL
);
"""

READY, INDEXING, FAILED = "ready", "indexing", "failed"
_SECRET = ("path", "content_hash", "title", "error")  # columns stored encrypted


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


class Library:
    """The registry of documents, in ``library.sqlite3`` under the data directory.

    Args:
        db_path: The database file.
        cipher: Encrypts the private columns and wraps each document's key.
    """

    def __init__(self, db_path: Path, *, cipher: Cipher) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._cipher = cipher
        self._doc_ciphers: dict[str, Cipher] = {}
        self._db = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 1 and self._db.execute(
                "SELECT count(*) FROM sqlite_master WHERE name='documents'").fetchone()[0]:
            self._db.close()
            raise ConfigError(
                "this library was made by a development version of Sanctum that did not encrypt it; "
                "remove it with `sanctum wipe` and add your documents again")
        self._db.executescript(_SCHEMA)
        if version < SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def doc_id_for(self, path: Path) -> str:
        """A stable id for a file path: a keyed hash, so the id does not reveal the path."""
        return self._cipher.keyed_hash(b"doc-id:" + str(path).encode("utf-8")).hex()[:24]

    def doc_cipher(self, doc_id: str) -> Cipher | None:
        """The cipher of one document's chunks; None once the document is removed (key destroyed)."""
        cached = self._doc_ciphers.get(doc_id)
        if cached is not None:
            return cached
        row = self._db.execute("SELECT doc_key FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        cipher = Cipher(self._cipher.decrypt(row[0], aad=b"doc-key:" + doc_id.encode()))
        self._doc_ciphers[doc_id] = cipher
        return cipher

    def _seal(self, doc_id: str, column: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        return self._cipher.encrypt(value.encode("utf-8"), aad=f"{column}:{doc_id}".encode())

    def _document(self, row: sqlite3.Row) -> Document:
        values: dict[str, Any] = dict(row)
        values.pop("doc_key", None)
        for column in _SECRET:
            blob = values[column]
            values[column] = None if blob is None else self._cipher.decrypt(
                bytes(blob), aad=f"{column}:{values['doc_id']}".encode()).decode("utf-8")
        return Document(**values)

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
        return self.by_id(self.doc_id_for(path))

    def by_id(self, doc_id: str) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return self._document(row) if row else None

    def all(self, status: str | None = None) -> list[Document]:
        if status:
            rows = self._db.execute("SELECT * FROM documents WHERE status = ?", (status,))
        else:
            rows = self._db.execute("SELECT * FROM documents")
        return sorted((self._document(r) for r in rows), key=lambda d: d.path)

    def interrupted(self) -> list[Document]:
        """Documents whose indexing was cut short (crash, kill) and must be cleaned up."""
        return self.all(INDEXING)

    def mark_indexing(self, path: Path, *, content_hash: str, size: int, mtime_ns: int, embedder: str) -> str:
        """Record that a file's chunks are about to change; returns its doc_id.

        The document gets a fresh key: chunks written before (and any copy the store keeps of
        them) can no longer be read once this commits.
        """
        doc_id = self.doc_id_for(path)
        now = time.time()
        doc_key = self._cipher.encrypt(os.urandom(KEY_BYTES), aad=b"doc-key:" + doc_id.encode())
        with self._tx() as db:
            db.execute(
                """INSERT INTO documents (doc_id, path, doc_key, content_hash, size, mtime_ns, status, embedder,
                                          added_at, updated_at, error, chunk_count)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)
                   ON CONFLICT(doc_id) DO UPDATE SET content_hash=excluded.content_hash, doc_key=excluded.doc_key,
                     size=excluded.size, mtime_ns=excluded.mtime_ns, status=excluded.status,
                     embedder=excluded.embedder, updated_at=excluded.updated_at, error=NULL""",
                (doc_id, self._seal(doc_id, "path", str(path)), doc_key, self._seal(doc_id, "content_hash", content_hash),
                 size, mtime_ns, INDEXING, embedder, now, now),
            )
        self._doc_ciphers.pop(doc_id, None)
        return doc_id

    def mark_ready(
        self, doc_id: str, *, format: str, title: str | None, page_count: int | None, chunk_count: int
    ) -> None:
        with self._tx() as db:
            db.execute(
                """UPDATE documents SET status=?, format=?, title=?, page_count=?, chunk_count=?,
                   updated_at=?, error=NULL WHERE doc_id=?""",
                (READY, format, self._seal(doc_id, "title", title), page_count, chunk_count, time.time(), doc_id),
            )

    def mark_failed(self, path: Path, *, error: str, size: int | None, mtime_ns: int | None) -> str:
        """Record a file that could not be ingested, with the reason (shown in the library)."""
        doc_id = self.doc_id_for(path)
        now = time.time()
        with self._tx() as db:
            db.execute(
                """INSERT INTO documents (doc_id, path, size, mtime_ns, status, error, added_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(doc_id) DO UPDATE SET status=excluded.status, error=excluded.error,
                     size=excluded.size, mtime_ns=excluded.mtime_ns, content_hash=NULL, doc_key=NULL,
                     title=NULL, chunk_count=0, updated_at=excluded.updated_at""",
                (doc_id, self._seal(doc_id, "path", str(path)), size, mtime_ns, FAILED,
                 self._seal(doc_id, "error", error), now, now),
            )
        self._doc_ciphers.pop(doc_id, None)
        return doc_id

    def touch(self, doc_id: str, *, size: int, mtime_ns: int) -> None:
        """Remember a new mtime for a file whose content did not change."""
        self._db.execute("UPDATE documents SET size=?, mtime_ns=? WHERE doc_id=?", (size, mtime_ns, doc_id))

    def delete(self, doc_id: str) -> None:
        """Forget a document, its key included (secure_delete zeroes the row; the WAL is emptied)."""
        self._doc_ciphers.pop(doc_id, None)
        self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
