"""The vector store: Chroma on disk, behind a small interface.

Chroma is opened with telemetry off and is always handed our own embeddings (without them it
would try to download an ONNX model). Vectors are unit length and the collection uses cosine
space, so ``score = 1 - distance`` is the cosine similarity.

Chunk text, labels and headings are encrypted (AES-256-GCM, the chunk id as associated data, kept in the
metadata) with the key
of the document they belong to (see :meth:`app.core.storage.registry.Library.doc_cipher`); the vectors stay
plaintext because Chroma must compute distances on them.

Forgetting: Chroma only marks a deleted record as deleted. Its vector stays in the HNSW index files
(``data_level0.bin``) and in freed pages of its SQLite file, and the metadata (the sealed text)
too. So after a removal or a re-index, :meth:`VectorStore.compact` rebuilds the collection from the
records that remain, drops the old one (and its segment folder, which Chroma leaves behind), and
vacuums Chroma's database, as ``chroma utils vacuum`` does: no byte of a removed document's vectors
is left in the store's files. The pending compaction is remembered on disk (``compact.pending``),
so one cut short by a crash is done on the next open.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.core.crypto import Cipher
from app.core.errors import ConfigError

COLLECTION = "chunks"
TEXT_KEY = "sealed_text"
PENDING = "compact.pending"  # holds nothing: its presence says records were deleted since the last compaction
_COPY_PAGE = 5000


@dataclass(frozen=True)
class StoredChunk:
    """One chunk as it goes into the store."""

    chunk_id: str
    doc_id: str
    text: str
    page: int | None
    label: str | None
    seq: int
    start: int
    end: int
    section: int
    heading: str | None = None  # the section heading it sits under in a paged document ("" none found), else None


@dataclass(frozen=True)
class Hit:
    """A chunk that came back from a query, best first."""

    chunk_id: str
    doc_id: str
    text: str
    page: int | None
    label: str | None
    seq: int
    score: float
    heading: str | None = None  # see StoredChunk.heading


class VectorStore:
    """Chunks and their vectors in a Chroma ``PersistentClient``.

    Thread rule: any thread may query; Chroma serialises its own reads and writes. Writes come
    from one ingest at a time (the GUI's ingest lane, a CLI command), so a document's chunks are
    never written by two threads at once.

    Args:
        folder: Where Chroma keeps its files.
        embedder_id: Identifies the embedding model; a library indexed with another model cannot
            be searched with this one, and the store says so instead of returning nonsense.
        drop_foreign: Drop an index built by another embedding model instead of refusing it.
        key_for: A document id's cipher, or None when the document (and its key) is gone.
        client: An already opened Chroma client to use instead of a ``PersistentClient`` on
            ``folder`` (a shared library's ``HttpClient``: see :mod:`app.core.team.store`).
        collection: The collection's name in that client.
    """

    def __init__(
        self, folder: Path | None, *, embedder_id: str, key_for: Callable[[str], Cipher | None],
        drop_foreign: bool = False, client: Any = None, collection: str = COLLECTION,
    ) -> None:
        self._key_for = key_for
        self._name = collection
        self._rebuilding = f"{collection}-rebuilding"  # filled by a compaction before it replaces the collection
        self.folder = folder  # None for a store on a server: compaction is then the server's business
        self._pending = folder / PENDING if folder is not None else None
        if client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            assert folder is not None
            folder.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(folder),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )
        self._client = client
        self._swap = threading.RLock()  # held by a compaction: searches wait for the new collection
        self._finish_interrupted_rebuild()
        self._col = self._client.get_or_create_collection(
            self._name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder_id},
            embedding_function=None,
        )
        meta = self._collection.metadata or {}
        self.embedder_id = embedder_id
        self.indexed_with = str(meta.get("embedder", embedder_id))
        if self.indexed_with != embedder_id and drop_foreign:
            self.reset()
        elif self.indexed_with != embedder_id and self._collection.count() > 0:
            raise ConfigError(
                f"this library was indexed with the embedding model '{self.indexed_with}', not "
                f"'{embedder_id}'; switch back in the settings, or re-index with "
                "`sanctum ingest --reindex`"
            )

    @property
    def _collection(self) -> Any:
        with self._swap:
            return self._col

    def reset(self) -> None:
        """Drop every chunk and start a collection for the current embedder."""
        self._mark_pending()
        self._client.delete_collection(self._name)
        self._col = self._client.get_or_create_collection(
            self._name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self.embedder_id},
            embedding_function=None,
        )
        self.indexed_with = self.embedder_id

    def count(self) -> int:
        return int(self._collection.count())

    def add(self, chunks: Sequence[StoredChunk], vectors: np.ndarray, *, batch: int = 2000) -> None:
        """Insert (or overwrite) chunks with their vectors."""
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            self._collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + len(part)],
                metadatas=[self._metadata(c) for c in part],
            )

    def _cipher(self, doc_id: str) -> Cipher:
        cipher = self._key_for(doc_id)
        if cipher is None:
            raise ValueError(f"document {doc_id} has no key: mark it as indexing before storing its chunks")
        return cipher

    def _metadata(self, c: StoredChunk) -> dict[str, Any]:
        meta = _metadata(c)
        # The sealed text goes in the metadata, not in Chroma's `documents`: Chroma builds a
        # full-text index of documents, useless on ciphertext and 3x slower to write.
        meta[TEXT_KEY] = self._cipher(c.doc_id).encrypt_text(c.text, aad=c.chunk_id.encode())
        if c.label:  # a sheet or section name can be private too
            meta["label"] = self._cipher(c.doc_id).encrypt_text(c.label, aad=f"{c.chunk_id}#label".encode())
        if c.heading is not None:  # so is a heading
            meta["heading"] = self._cipher(c.doc_id).encrypt_text(c.heading, aad=f"{c.chunk_id}#heading".encode())
        return meta

    def delete_document(self, doc_id: str) -> None:
        """Remove every chunk of one document (their bytes stay in the files until :meth:`compact`)."""
        self._mark_pending()
        self._collection.delete(where={"doc_id": doc_id})

    @property
    def needs_compaction(self) -> bool:
        return self._pending is not None and self._pending.exists()

    def compact(self) -> bool:
        """Rewrite the store without the records deleted since the last compaction; False when
        nothing was deleted. Takes about as long as copying every vector once."""
        if self._pending is None:
            return False
        try:
            token = self._pending.read_text(encoding="ascii")
        except OSError:
            return False
        with self._swap:
            self._rebuild()
        self._vacuum()
        with contextlib.suppress(OSError):
            if self._pending.read_text(encoding="ascii") == token:  # no deletion came in meanwhile
                self._pending.unlink()
        return True

    def _mark_pending(self) -> None:
        if self._pending is not None:
            self._pending.write_text(uuid.uuid4().hex, encoding="ascii")

    def _rebuild(self) -> None:
        with contextlib.suppress(Exception):  # a rebuild cut short earlier
            self._client.delete_collection(self._rebuilding)
        old = self._collection
        fresh = self._client.create_collection(
            self._rebuilding, configuration={"hnsw": {"space": "cosine"}}, metadata=old.metadata or None,
            embedding_function=None,
        )
        total, page = old.count(), min(_COPY_PAGE, int(self._client.get_max_batch_size()))
        for offset in range(0, total, page):
            part = old.get(include=["embeddings", "metadatas"], limit=page, offset=offset)
            if part["ids"]:
                fresh.add(ids=part["ids"], embeddings=part["embeddings"], metadatas=part["metadatas"])
        self._client.delete_collection(self._name)
        fresh.modify(name=self._name)
        self._col = self._client.get_collection(self._name, embedding_function=None)

    def _finish_interrupted_rebuild(self) -> None:
        """A compaction killed after dropping the old collection: its copy is complete, use it.
        Killed before: the copy is partial and is dropped (the compaction is still pending)."""
        if self.folder is None:
            return
        names = {c.name for c in self._client.list_collections()}
        if self._rebuilding not in names:
            return
        if self._name in names:
            self._client.delete_collection(self._rebuilding)
        else:
            self._client.get_collection(self._rebuilding, embedding_function=None).modify(name=self._name)

    def _vacuum(self) -> None:
        """What ``chroma utils vacuum`` does (Chroma purges its log itself after each write), plus the
        segment folders of dropped collections, which Chroma leaves on disk with their vectors."""
        import shutil
        import sqlite3

        assert self.folder is not None  # only a store in a local folder is compacted
        db = sqlite3.connect(str(self.folder / "chroma.sqlite3"), isolation_level=None, timeout=30)
        try:
            live = {row[0] for row in db.execute("SELECT id FROM segments")}
            db.execute("VACUUM")
        finally:
            db.close()
        for entry in self.folder.iterdir():
            if entry.is_dir() and _is_uuid(entry.name) and entry.name not in live:
                shutil.rmtree(entry)

    def chunk_counts(self) -> dict[str, int]:
        """``doc_id -> number of chunks`` for every document in the store (ids only, no vectors)."""
        counts: dict[str, int] = {}
        total, page = self.count(), 50_000
        for offset in range(0, total, page):
            for cid in self._collection.get(include=[], limit=page, offset=offset)["ids"]:
                doc_id = cid.rsplit(":", 1)[0]
                counts[doc_id] = counts.get(doc_id, 0) + 1
        return counts

    def chunk_ids(self, doc_id: str) -> list[str]:
        return list(self._collection.get(where={"doc_id": doc_id}, include=[])["ids"])

    def document_texts(self, doc_id: str) -> list[str]:
        """The text of one document's chunks, in document order (for viewers and tests)."""
        return [text for _, text in self.texts(doc_id)]

    def texts(self, doc_id: str) -> list[tuple[str, str]]:
        """``(chunk_id, text)`` of one document's chunks, in document order (empty once it is removed)."""
        return [(h.chunk_id, h.text) for h in self.chunks(doc_id)]

    def chunks(self, doc_id: str) -> list[Hit]:
        """One document's chunks (score 0), in document order (empty once it is removed)."""
        res = self._collection.get(where={"doc_id": doc_id}, include=["metadatas"])
        rows = sorted(zip(res["ids"], res["metadatas"], strict=True), key=lambda r: int(r[1].get("seq", 0)))
        hits = (self._hit(cid, meta, 0.0) for cid, meta in rows)
        return [h for h in hits if h is not None]

    def fetch(self, chunk_ids: Sequence[str]) -> list[tuple[Hit, np.ndarray]]:
        """Chunks by id with their vectors (score 0), in the order asked; unknown ids are left out."""
        if not chunk_ids:
            return []
        res = self._collection.get(ids=list(chunk_ids), include=["metadatas", "embeddings"])
        matrix = np.asarray(res["embeddings"], dtype=np.float32)  # one conversion, not one per row
        found = {}
        for i, (cid, meta) in enumerate(zip(res["ids"], res["metadatas"], strict=True)):
            hit = self._hit(cid, meta, 0.0)
            if hit is not None:
                found[cid] = (hit, matrix[i])
        return [found[c] for c in chunk_ids if c in found]

    def nearest(self, vector: np.ndarray, *, k: int, doc_ids: Sequence[str] | None = None) -> list[str]:
        """The ids of the ``k`` chunks nearest to ``vector`` (nothing read or decrypted: for a caller that
        fetches its candidates once, see :meth:`fetch`)."""
        if k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        where = {"doc_id": {"$in": list(doc_ids)}} if doc_ids is not None else None
        res = self._collection.query(query_embeddings=[vector], n_results=k, where=where, include=[])
        return [str(cid) for cid in res["ids"][0]]

    def query(self, vector: np.ndarray, *, k: int, doc_ids: Sequence[str] | None = None) -> list[Hit]:
        """The ``k`` chunks nearest to ``vector``, optionally only from some documents.

        Chroma returns fewer than ``k`` when it holds fewer, so the collection is not counted first
        (counting took 9 ms at 100,000 chunks, twice per search)."""
        if k <= 0:
            return []
        where: dict[str, Any] | None = None
        if doc_ids is not None:
            if not doc_ids:
                return []
            where = {"doc_id": {"$in": list(doc_ids)}}
        res = self._collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["metadatas", "distances"],
        )
        hits = (
            self._hit(cid, meta, 1.0 - float(dist))
            for cid, meta, dist in zip(res["ids"][0], res["metadatas"][0], res["distances"][0], strict=True)
        )
        return [h for h in hits if h is not None]

    def _hit(self, cid: str, meta: Any, score: float) -> Hit | None:
        """The decrypted chunk, or None when its document (and key) is gone, e.g. removed meanwhile."""
        cipher = self._key_for(str(meta["doc_id"]))
        if cipher is None:
            return None
        label, text, heading = meta.get("label"), meta.get(TEXT_KEY), meta.get("heading")
        return Hit(
            chunk_id=cid,
            doc_id=str(meta["doc_id"]),
            text=cipher.decrypt_text(str(text), aad=cid.encode()) if text else "",
            page=_opt_int(meta.get("page")),
            label=cipher.decrypt_text(str(label), aad=f"{cid}#label".encode()) if label else None,
            seq=int(meta.get("seq", 0)),
            score=score,
            heading=None if heading is None else cipher.decrypt_text(str(heading), aad=f"{cid}#heading".encode()),
        )


def _metadata(c: StoredChunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": c.doc_id,
        "seq": c.seq,
        "start": c.start,
        "end": c.end,
        "section": c.section,
    }
    if c.page is not None:
        meta["page"] = c.page
    return meta


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def _opt_int(value: Any) -> int | None:
    return int(value) if value is not None else None


