"""The document registry: which files are in the library, and in what state.

A small SQLite database beside the vector store. A document's row is written as ``indexing``
before its chunks change and as ``ready`` after, so a crash in between is found on the next
open and the half-written chunks are removed (see :meth:`Library.interrupted`).

Documents belong to named libraries ("Cardiology guidelines", "HR policies"); a conversation
searches the libraries it chooses. Folders can be followed (see :mod:`app.core.ingest.watch`). The schema
is versioned with ``PRAGMA user_version`` and migrated on open, so older data folders keep working.

Privacy: paths, titles, content hashes, error messages and followed folders are encrypted (a file
name often names a patient); a document's id is a keyed hash of its path, so it reveals nothing
either. Queries by path (a folder's documents, a mail's attachments) therefore decrypt the paths in
memory instead of asking SQLite. Each document has its own random key (stored wrapped by the data
key, replaced on every re-index): its chunks in the vector store are encrypted with it, so removing
the row destroys the only key to any copy of the text the store keeps after deletion
(crypto-shredding). ``secure_delete`` overwrites deleted rows; the WAL is truncated after a removal.
Library names are labels the user types and stay readable, like the embedder's name.
"""

from __future__ import annotations

import hmac
import os
import sqlite3
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from app.core.crypto import KEY_BYTES, Cipher
from app.core.errors import ConfigError, SanctumError
from app.core.storage.sqlite_tx import SerialConnection
from app.core.values import (  # value types, re-exported for the registry's callers
    DEFAULT_LIBRARY,
    Document,
    LibraryInfo,
    WatchedFolder,
)

_SCHEMA_V1 = """
CREATE TABLE documents (
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
# Each entry brings the schema from version i to i + 1; never edit one that has shipped.
_MIGRATIONS = [
    _SCHEMA_V1,
    f"""
    CREATE TABLE libraries (name TEXT PRIMARY KEY, created_at REAL NOT NULL);
    INSERT INTO libraries VALUES ('{DEFAULT_LIBRARY}', strftime('%s', 'now'));
    ALTER TABLE documents ADD COLUMN library TEXT NOT NULL DEFAULT '{DEFAULT_LIBRARY}';
    CREATE INDEX documents_by_library ON documents(library, status);
    CREATE TABLE watched_folders (
        path TEXT PRIMARY KEY, library TEXT NOT NULL, added_at REAL NOT NULL
    );
    """,
    # v3: encrypted at rest. Rows of v1/v2 hold plaintext and are refused before this runs (see
    # Library._migrate), so the tables it replaces are empty.
    f"""
    DROP TABLE documents;
    CREATE TABLE documents (
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
        updated_at   REAL NOT NULL,
        library      TEXT NOT NULL DEFAULT '{DEFAULT_LIBRARY}'
    );
    CREATE INDEX documents_by_library ON documents(library, status);
    DROP TABLE watched_folders;
    CREATE TABLE watched_folders (
        folder_id TEXT PRIMARY KEY, path BLOB NOT NULL, library TEXT NOT NULL, added_at REAL NOT NULL
    );
    """,
    # v4: small values that must be kept secret and unforgeable (e.g. the audit log's anchor),
    # each encrypted under the data key with its name as associated data.
    """
    CREATE TABLE sealed_values (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    """,
    # v5: the embedding model a document was indexed with stays readable (like library names) but
    # is sealed by a keyed hash: it can switch the app onto another backend, so it must not be
    # altered from outside. Rows of v4 get their seal right after this step (Library._migrate).
    """
    ALTER TABLE documents ADD COLUMN embedder_tag BLOB;
    """,
]
SCHEMA_VERSION = len(_MIGRATIONS)

READY, INDEXING, FAILED = "ready", "indexing", "failed"
_SECRET = ("path", "content_hash", "title", "error")  # columns stored encrypted


class Library:
    """The registry of documents, in ``library.sqlite3`` under the data directory.

    Thread rule: any thread may call it. Its one SQLite connection runs one statement or one
    transaction at a time (:class:`app.core.storage.sqlite_tx.SerialConnection`); a ``batch``
    holds it until it commits.

    Args:
        db_path: The database file.
        cipher: Encrypts the private columns and wraps each document's key.
    """

    def __init__(self, db_path: Path, *, cipher: Cipher) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._cipher = cipher
        self._doc_ciphers: dict[str, Cipher] = {}
        raw = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
        raw.row_factory = sqlite3.Row
        self._db = SerialConnection(raw)  # the thread rule: one statement or transaction at a time
        self._db.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()

    def _migrate(self) -> None:
        """Bring the database up to this version, one step per transaction."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"the library database was written by a newer version of Sanctum (schema {version}); "
                "update Sanctum to open it"
            )
        if version < 3 and self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'documents'").fetchone() \
                and self._db.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
            self._db.close()
            raise ConfigError(
                "this library was made by a development version of Sanctum that did not encrypt it; "
                "remove it with `sanctum wipe` and add your documents again"
            )
        for step in range(version, SCHEMA_VERSION):
            script = _MIGRATIONS[step]
            if step == 0:  # databases made before versioning have the v1 table, maybe with data
                script = script.replace("CREATE TABLE documents", "CREATE TABLE IF NOT EXISTS documents")
            try:
                self._db.executescript(f"BEGIN IMMEDIATE;\n{script};\nPRAGMA user_version={step + 1};\nCOMMIT;")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise ConfigError(f"the library database could not be upgraded: {exc}") from exc
            if step + 1 == 5:
                self._seal_embedders()

    def _embedder_tag(self, doc_id: str, embedder: str) -> bytes:
        return self._cipher.keyed_hash(b"embedder:" + doc_id.encode() + b"\0" + embedder.encode("utf-8"))

    def _seal_embedders(self) -> None:
        """Seal the embedders of rows written before v5 (trusted as they are at the upgrade)."""
        rows = self._db.execute("SELECT doc_id, embedder FROM documents WHERE embedder IS NOT NULL").fetchall()
        with self._tx() as db:
            for doc_id, embedder in rows:
                db.execute("UPDATE documents SET embedder_tag=? WHERE doc_id=?",
                           (self._embedder_tag(doc_id, embedder), doc_id))

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> AbstractContextManager[SerialConnection]:
        # Inside this thread's batch(): its transaction holds this write too. Another thread's
        # batch is waited for (the connection's lock), never joined.
        return self._db.transaction(join=True)

    def batch(self) -> AbstractContextManager[SerialConnection]:
        """Several writes as one transaction (one disk sync instead of one per write): all or none."""
        return self._db.transaction()

    def change_stamp(self) -> tuple[int, int]:
        """A value that differs after any committed change to the library, from this process or another
        (cheap: two counters, no row read). Lets readers keep what they derived from it until it moves."""
        with self._db.lock:
            return self._db.execute("PRAGMA data_version").fetchone()[0], self._db.raw.total_changes

    def doc_id_for(self, path: Path | str) -> str:
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

    def _seal(self, row_id: str, column: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        return self._cipher.encrypt(value.encode("utf-8"), aad=f"{column}:{row_id}".encode())

    def _open(self, row_id: str, column: str, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        return self._cipher.decrypt(bytes(blob), aad=f"{column}:{row_id}".encode()).decode("utf-8")

    def _document(self, row: sqlite3.Row) -> Document:
        values: dict[str, Any] = dict(row)
        values.pop("doc_key", None)
        values.pop("embedder_tag", None)
        for column in _SECRET:
            values[column] = self._open(values["doc_id"], column, values[column])
        return Document(**values)

    def _documents(self, rows: Any) -> list[Document]:
        return sorted((self._document(r) for r in rows), key=lambda d: d.path)

    def embedders(self) -> set[str]:
        """The embedders of the documents indexed here, each checked against its seal.

        Raises:
            LibraryTampered: An embedder was altered outside Sanctum (it is not followed).
        """
        rows = self._db.execute(
            "SELECT doc_id, embedder, embedder_tag FROM documents WHERE status = ? AND embedder IS NOT NULL", (READY,))
        found, altered = set(), set()
        for doc_id, embedder, tag in rows:
            if tag is None or not hmac.compare_digest(bytes(tag), self._embedder_tag(doc_id, embedder)):
                altered.add(embedder)
            else:
                found.add(embedder)
        if altered:
            raise LibraryTampered(
                "the library database was changed outside Sanctum: the embedding model recorded for some "
                f"documents ({', '.join(sorted(altered))}) does not carry Sanctum's seal, so Sanctum will not "
                "follow it. If nobody here did this on purpose, someone with access to this computer may have; "
                "run `sanctum ingest --reindex` to index your documents again with the current model"
            )
        return found

    def get(self, path: Path) -> Document | None:
        return self.by_id(self.doc_id_for(path))

    def by_id(self, doc_id: str) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return self._document(row) if row else None

    def all(self, status: str | None = None) -> list[Document]:
        if status:
            return self._documents(self._db.execute("SELECT * FROM documents WHERE status = ?", (status,)))
        return self._documents(self._db.execute("SELECT * FROM documents"))

    def _paths(self, columns: str = "") -> list[tuple[str, sqlite3.Row]]:
        """Every document's decrypted path with the other ``columns`` asked for (paths are encrypted,
        so prefix queries run here rather than in SQLite; a few microseconds a row)."""
        rows = self._db.execute(f"SELECT doc_id, path{columns} FROM documents")
        return [(str(self._open(r["doc_id"], "path", r["path"])), r) for r in rows]

    def children(self, path: Path, separator: str) -> list[Document]:
        """Documents stored from inside the file at ``path`` (attachments, archive members): those
        whose path is ``path``, ``separator``, then their name inside it."""
        prefix = f"{path}{separator}"
        ids = [r["doc_id"] for p, r in self._paths() if p.startswith(prefix)]
        return sorted((d for d in map(self.by_id, ids) if d is not None), key=lambda d: d.path)

    def interrupted(self) -> list[Document]:
        """Documents whose indexing was cut short (crash, kill) and must be cleaned up."""
        return self.all(INDEXING)

    def mark_indexing(
        self, path: Path, *, content_hash: str, size: int, mtime_ns: int, embedder: str, library: str | None = None
    ) -> str:
        """Record that a file's chunks are about to change; returns its doc_id.

        The document gets a fresh key: chunks written before (and any copy the store keeps of
        them) can no longer be read once this commits. ``library`` moves the document there; None
        keeps a known document where it is and puts a new one in the default library.
        """
        doc_id = self.doc_id_for(path)
        now = time.time()
        doc_key = self._cipher.encrypt(os.urandom(KEY_BYTES), aad=b"doc-key:" + doc_id.encode())
        with self._tx() as db:
            db.execute(
                """INSERT INTO documents (doc_id, path, doc_key, content_hash, size, mtime_ns, status, embedder,
                                          added_at, updated_at, error, chunk_count, library, embedder_tag)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, COALESCE(?, ?), ?)
                   ON CONFLICT(doc_id) DO UPDATE SET content_hash=excluded.content_hash, doc_key=excluded.doc_key,
                     size=excluded.size, mtime_ns=excluded.mtime_ns, status=excluded.status,
                     embedder=excluded.embedder, embedder_tag=excluded.embedder_tag,
                     updated_at=excluded.updated_at, error=NULL,
                     library=COALESCE(?, documents.library)""",
                (doc_id, self._seal(doc_id, "path", str(path)), doc_key,
                 self._seal(doc_id, "content_hash", content_hash), size, mtime_ns, INDEXING, embedder, now, now,
                 library, DEFAULT_LIBRARY, self._embedder_tag(doc_id, embedder), library),
            )
        self._doc_ciphers.pop(doc_id, None)
        return doc_id

    def begin_change(self, doc_id: str) -> None:
        """Mark a known document ``indexing`` before its chunks are removed or replaced.

        If the process dies before the change is recorded, the next open finds the document
        interrupted and removes whatever is left of it, so the store never keeps stray chunks.
        """
        self._db.execute("UPDATE documents SET status=?, updated_at=? WHERE doc_id=?", (INDEXING, time.time(), doc_id))

    def mark_ready(
        self, doc_id: str, *, format: str, title: str | None, page_count: int | None, chunk_count: int
    ) -> None:
        with self._tx() as db:
            db.execute(
                """UPDATE documents SET status=?, format=?, title=?, page_count=?, chunk_count=?,
                   updated_at=?, error=NULL WHERE doc_id=?""",
                (READY, format, self._seal(doc_id, "title", title), page_count, chunk_count, time.time(), doc_id),
            )

    def mark_failed(
        self, path: Path, *, error: str, size: int | None, mtime_ns: int | None, library: str | None = None
    ) -> str:
        """Record a file that could not be ingested, with the reason (shown in the library)."""
        doc_id = self.doc_id_for(path)
        now = time.time()
        with self._tx() as db:
            db.execute(
                """INSERT INTO documents (doc_id, path, size, mtime_ns, status, error, added_at, updated_at, library)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, ?))
                   ON CONFLICT(doc_id) DO UPDATE SET status=excluded.status, error=excluded.error,
                     size=excluded.size, mtime_ns=excluded.mtime_ns, content_hash=NULL, doc_key=NULL,
                     title=NULL, chunk_count=0, updated_at=excluded.updated_at,
                     library=COALESCE(?, documents.library)""",
                (doc_id, self._seal(doc_id, "path", str(path)), size, mtime_ns, FAILED,
                 self._seal(doc_id, "error", error), now, now, library, DEFAULT_LIBRARY, library),
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

    # -- sealed values ------------------------------------------------------------------------

    def sealed(self, name: str) -> bytes | None:
        """A value kept by :meth:`seal_value`; None when there is none.

        Raises:
            DataLocked: The value was altered or written under another key.
        """
        row = self._db.execute("SELECT value FROM sealed_values WHERE name = ?", (name,)).fetchone()
        return None if row is None else self._cipher.decrypt(bytes(row[0]), aad=b"sealed:" + name.encode())

    def seal_value(self, name: str, value: bytes) -> None:
        """Keep ``value`` encrypted and authenticated under ``name`` (replacing the one before)."""
        blob = self._cipher.encrypt(value, aad=b"sealed:" + name.encode())
        self._db.execute("INSERT INTO sealed_values VALUES (?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, blob))

    def checkpoint(self) -> None:
        """Copy the WAL into the database and empty it, so replaced document keys (a re-index gives a
        document a new key) are not left in the WAL file (``secure_delete`` zeroes them in the database)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def under(self, folder: Path) -> dict[str, tuple[int | None, int | None, str]]:
        """``path -> (size, mtime_ns, status)`` of every document inside ``folder``, in one query."""
        prefix = str(folder).rstrip("/\\") + "/"
        return {
            path: (r["size"], r["mtime_ns"], r["status"])
            for path, r in self._paths(", size, mtime_ns, status")
            if path.startswith(prefix)
        }

    # -- libraries ---------------------------------------------------------------------------

    def libraries(self) -> list[LibraryInfo]:
        """Every library with its document counts, the default first, then by name."""
        rows = self._db.execute(
            """SELECT l.name, l.created_at,
                      COUNT(d.doc_id) AS documents,
                      COALESCE(SUM(d.status = 'ready'), 0) AS ready,
                      COALESCE(SUM(d.chunk_count), 0) AS chunks
               FROM libraries l LEFT JOIN documents d ON d.library = l.name
               GROUP BY l.name ORDER BY l.name != ?, l.name COLLATE NOCASE""",
            (DEFAULT_LIBRARY,),
        )
        return [LibraryInfo(**dict(r)) for r in rows]

    def has_library(self, name: str) -> bool:
        return self._db.execute("SELECT 1 FROM libraries WHERE name = ?", (name,)).fetchone() is not None

    def require_library(self, name: str) -> str:
        """``name`` if such a library exists; otherwise an error that says how to make it."""
        if not self.has_library(name):
            known = ", ".join(f"'{i.name}'" for i in self.libraries())
            raise UnknownLibrary(
                f"there is no library named '{name}' (libraries: {known}); "
                f"create it with: sanctum library create \"{name}\""
            )
        return name

    def create_library(self, name: str) -> str:
        """Add an empty library; returns its cleaned-up name."""
        name = _library_name(name)
        with self._tx() as db:
            clash = db.execute("SELECT name FROM libraries WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
            if clash:
                raise SanctumError(f"a library named '{clash[0]}' already exists")
            db.execute("INSERT INTO libraries VALUES (?, ?)", (name, time.time()))
        return name

    def rename_library(self, old: str, new: str) -> str:
        """Rename a library; its documents and followed folders go with it."""
        self.require_library(old)
        new = _library_name(new)
        with self._tx() as db:
            clash = db.execute(
                "SELECT name FROM libraries WHERE name = ? COLLATE NOCASE AND name != ?", (new, old)
            ).fetchone()
            if clash:
                raise SanctumError(f"a library named '{clash[0]}' already exists")
            db.execute("UPDATE libraries SET name = ? WHERE name = ?", (new, old))
            db.execute("UPDATE documents SET library = ? WHERE library = ?", (new, old))
            db.execute("UPDATE watched_folders SET library = ? WHERE library = ?", (new, old))
        return new

    def drop_library(self, name: str) -> None:
        """Forget an empty library (its documents must have been removed first)."""
        self.require_library(name)
        if name == DEFAULT_LIBRARY:
            raise SanctumError(f"'{DEFAULT_LIBRARY}' is the default library and cannot be deleted")
        with self._tx() as db:
            db.execute("DELETE FROM watched_folders WHERE library = ?", (name,))
            if db.execute("SELECT 1 FROM documents WHERE library = ? LIMIT 1", (name,)).fetchone():
                raise SanctumError(f"the library '{name}' still holds documents; remove them first")
            db.execute("DELETE FROM libraries WHERE name = ?", (name,))

    def in_libraries(self, names: list[str] | tuple[str, ...]) -> list[Document]:
        """Documents of the named libraries (each name must exist)."""
        for name in names:
            self.require_library(name)
        marks = ",".join("?" * len(names))
        return self._documents(self._db.execute(f"SELECT * FROM documents WHERE library IN ({marks})", tuple(names)))

    # -- followed folders ----------------------------------------------------------------------

    def _folder_id(self, folder: Path) -> str:
        return self._cipher.keyed_hash(b"folder-id:" + str(folder).encode("utf-8")).hex()[:24]

    def watched(self) -> list[WatchedFolder]:
        rows = self._db.execute("SELECT folder_id, path, library, added_at FROM watched_folders")
        folders = [
            WatchedFolder(Path(str(self._open(r["folder_id"], "path", r["path"]))), r["library"], r["added_at"])
            for r in rows
        ]
        return sorted(folders, key=lambda f: str(f.path))

    def add_watched(self, folder: Path, library: str) -> WatchedFolder:
        """Follow ``folder`` (an absolute path) into ``library``; following it again moves it."""
        self.require_library(library)
        now = time.time()
        folder_id = self._folder_id(folder)
        self._db.execute(
            """INSERT INTO watched_folders VALUES (?, ?, ?, ?)
               ON CONFLICT(folder_id) DO UPDATE SET library = excluded.library""",
            (folder_id, self._seal(folder_id, "path", str(folder)), library, now),
        )
        return WatchedFolder(folder, library, now)

    def remove_watched(self, folder: Path) -> bool:
        cur = self._db.execute("DELETE FROM watched_folders WHERE folder_id = ?", (self._folder_id(folder),))
        return cur.rowcount > 0


class LibraryTampered(SanctumError):
    """A value Sanctum relies on was altered in the library database from outside."""


class UnknownLibrary(SanctumError):
    """A library name that does not exist."""


def _library_name(name: str) -> str:
    clean = " ".join(str(name).split())
    if not clean:
        raise SanctumError("a library needs a name")
    if len(clean) > 80:
        raise SanctumError("a library name can be at most 80 characters long")
    return clean
