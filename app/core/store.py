"""The vector store: Chroma on disk, behind a small interface.

Chroma is opened with telemetry off and is always handed our own embeddings (without them it
would try to download an ONNX model). Vectors are unit length and the collection uses cosine
space, so ``score = 1 - distance`` is the cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import ConfigError

COLLECTION = "chunks"


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


class VectorStore:
    """Chunks and their vectors in a Chroma ``PersistentClient``.

    Args:
        folder: Where Chroma keeps its files.
        embedder_id: Identifies the embedding model; a library indexed with another model cannot
            be searched with this one, and the store says so instead of returning nonsense.
        drop_foreign: Drop an index built by another embedding model instead of refusing it.
    """

    def __init__(self, folder: Path, *, embedder_id: str, drop_foreign: bool = False) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        folder.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(folder),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
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

    def reset(self) -> None:
        """Drop every chunk and start a collection for the current embedder."""
        self._client.delete_collection(COLLECTION)
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
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
                documents=[c.text for c in part],
                metadatas=[_metadata(c) for c in part],
            )

    def delete_document(self, doc_id: str) -> None:
        """Remove every chunk of one document."""
        self._collection.delete(where={"doc_id": doc_id})

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
        got = self._collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        pairs = sorted(zip(got["metadatas"] or [], got["documents"] or [], strict=True), key=lambda p: int(p[0]["seq"]))
        return [text or "" for _, text in pairs]

    def texts(self, doc_id: str) -> list[tuple[str, str]]:
        """``(chunk_id, text)`` of one document's chunks, in document order."""
        res = self._collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        rows = sorted(zip(res["ids"], res["documents"], res["metadatas"], strict=True),
                      key=lambda r: int(r[2].get("seq", 0)))
        return [(cid, text or "") for cid, text, _ in rows]

    def fetch(self, chunk_ids: Sequence[str]) -> list[tuple[Hit, np.ndarray]]:
        """Chunks by id with their vectors (score 0), in the order asked; unknown ids are left out."""
        if not chunk_ids:
            return []
        res = self._collection.get(ids=list(chunk_ids), include=["documents", "metadatas", "embeddings"])
        found = {
            cid: (_hit(cid, text, meta, 0.0), np.asarray(vec, dtype=np.float32))
            for cid, text, meta, vec in zip(res["ids"], res["documents"], res["metadatas"], res["embeddings"],
                                            strict=True)
        }
        return [found[c] for c in chunk_ids if c in found]

    def query(self, vector: np.ndarray, *, k: int, doc_ids: Sequence[str] | None = None) -> list[Hit]:
        """The ``k`` chunks nearest to ``vector``, optionally only from some documents."""
        total = self.count()
        if total == 0:
            return []
        where: dict[str, Any] | None = None
        if doc_ids is not None:
            if not doc_ids:
                return []
            where = {"doc_id": {"$in": list(doc_ids)}}
        res = self._collection.query(
            query_embeddings=[vector],
            n_results=min(k, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for cid, text, meta, dist in zip(
            res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
        ):
            hits.append(
                Hit(
                    chunk_id=cid,
                    doc_id=str(meta["doc_id"]),
                    text=text or "",
                    page=_opt_int(meta.get("page")),
                    label=_opt_str(meta.get("label")),
                    seq=int(meta.get("seq", 0)),
                    score=1.0 - float(dist),
                )
            )
        return hits


def _hit(cid: str, text: str | None, meta: Any, score: float) -> Hit:
    return Hit(
        chunk_id=cid,
        doc_id=str(meta["doc_id"]),
        text=text or "",
        page=_opt_int(meta.get("page")),
        label=_opt_str(meta.get("label")),
        seq=int(meta.get("seq", 0)),
        score=score,
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
    if c.label:
        meta["label"] = c.label
    return meta


def _opt_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _opt_str(value: Any) -> str | None:
    return str(value) if value is not None else None
