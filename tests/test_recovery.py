"""Recovery on open: whatever the registry and the store disagree on is undone, then redone."""

from __future__ import annotations

from pathlib import Path

from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder
from tests import docmaker
from tests.conftest import typed_passphrase


def _engine(home: Path, embedder: Embedder) -> Engine:
    return Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase)


def test_a_ready_document_missing_chunks_and_stray_chunks_are_repaired(
    home: Path, tmp_path: Path, embedder: Embedder
) -> None:
    a = docmaker.make_pdf(tmp_path / "a.pdf", ["Page one of a.", "Page two of a.", "Page three of a."])
    b = docmaker.make_text(tmp_path / "b.txt", "The linen store is next to the lift.")
    with _engine(home, embedder) as engine:
        engine.ingest_service().ingest([a, b])
        a_id = engine.library.get(a.resolve()).doc_id
        # The store lost a's last chunk (as a power cut after the registry's fsync could do), and
        # holds chunks of a document the registry never heard of.
        engine.store._collection.delete(ids=[f"{a_id}:2"])
        vec = embedder.embed(["stray"])
        engine.store._collection.add(  # written straight into Chroma: the registry knows no key for it
            ids=["ffffffffffffffffffff:0"], embeddings=vec,
            metadatas=[{"doc_id": "ffffffffffffffffffff", "seq": 0, "start": 0, "end": 5, "section": 0}])
    with _engine(home, embedder) as engine:
        service = engine.ingest_service()  # recovery runs here
        assert engine.library.get(a.resolve()) is None, "a half-stored document is forgotten, to be redone"
        assert engine.store.chunk_ids(a_id) == [] and engine.store.chunk_ids("ffffffffffffffffffff") == []
        assert engine.library.get(b.resolve()).status == "ready"
        outcomes = {o.path.name: o.status for o in service.ingest([a, b])}
        assert outcomes == {"a.pdf": "ingested", "b.txt": "unchanged"}
        assert engine.store.chunk_counts() == {d.doc_id: d.chunk_count for d in engine.library.all()}


def test_a_kill_during_remove_finishes_the_removal(home: Path, tmp_path: Path, embedder: Embedder) -> None:
    doc = docmaker.make_text(tmp_path / "old.txt", "Obsolete: the canteen closes at 14:00.")
    with _engine(home, embedder) as engine:
        engine.ingest_service().ingest([doc])
        record = engine.library.get(doc.resolve())
        # remove() marks the document first, then deletes chunks, then the row: die after the mark.
        engine.library.begin_change(record.doc_id)
    with _engine(home, embedder) as engine:
        engine.ingest_service()
        assert engine.library.get(doc.resolve()) is None
        assert engine.store.count() == 0


def test_a_file_that_turns_unreadable_loses_its_old_chunks(home: Path, tmp_path: Path, embedder: Embedder) -> None:
    doc = docmaker.make_pdf(tmp_path / "policy.pdf", ["Version one of the policy: gowns are blue."])
    with _engine(home, embedder) as engine:
        service = engine.ingest_service()
        service.ingest([doc])
        doc.write_bytes(b"%PDF-1.7 now damaged")
        [outcome] = service.ingest([doc])
        assert outcome.status == "failed"
        record = engine.library.get(doc.resolve())
        assert record.status == "failed" and record.chunk_count == 0
        assert engine.store.count() == 0, "the old version must not stay searchable"
