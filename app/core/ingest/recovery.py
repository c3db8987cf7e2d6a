"""Find what a crash or a kill left half done, by comparing the registry with the store.

Ingestion writes in a fixed order: the registry marks a document ``indexing`` (SQLite, WAL,
synchronous=FULL), then its chunks change in Chroma, then the registry marks it ``ready``. Removal
marks it ``indexing`` before its chunks go. So after a SIGKILL at any instant, a document is in one
of three states: ``ready`` with all its chunks, ``indexing`` with any number of chunks, or absent.
The ``indexing`` ones are undone and redone by the next run.

The registry and Chroma are two databases, each consistent on its own but not with each other, so
the cross-check below also catches what the write order cannot: a ``ready`` document whose chunks
are not all in the store (e.g. Chroma lost its last write to a power cut), and chunks of a
document the registry does not know. It reads only the chunk ids, not text or vectors.
"""

from __future__ import annotations

from pathlib import Path

from app.core.storage.registry import FAILED, INDEXING, READY, Library
from app.core.storage.vectors import VectorStore


def damaged_documents(library: Library, store: VectorStore) -> list[tuple[str, Path | None]]:
    """``(doc_id, path)`` of every document to clean up; the path is None for stray chunks.

    Cleaning up means removing the document's chunks and its record, so that the next ingest of
    its file starts from nothing and ends as an uninterrupted one would.
    """
    damaged: dict[str, Path | None] = {}
    docs = library.all()
    for doc in docs:
        if doc.status == INDEXING:
            damaged[doc.doc_id] = Path(doc.path)
    counts = store.chunk_counts() if store.count() else {}
    known = {doc.doc_id: doc for doc in docs}
    for doc in docs:
        stored = counts.get(doc.doc_id, 0)
        if (doc.status == READY and stored != doc.chunk_count) or (doc.status == FAILED and stored):
            damaged.setdefault(doc.doc_id, Path(doc.path))
    for doc_id in counts:
        if doc_id not in known:
            damaged[doc_id] = None
    return list(damaged.items())
