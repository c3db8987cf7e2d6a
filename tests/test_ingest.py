"""Ingestion: idempotent, replaces changed files, forgets removed ones, survives broken files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.engine import Engine
from app.core.ingest import service as ingest_module
from app.core.storage.registry import INDEXING
from app.core.storage.vectors import StoredChunk
from tests import docmaker


def _texts(engine: Engine, query: str, k: int = 5) -> list[str]:
    return [p.text for p in engine.search_service().search(query, k=k)]


def test_folder_is_ingested_recursively_with_provenance(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "a" / "b").mkdir(parents=True)
    docmaker.make_pdf(root / "a" / "b" / "deep.pdf", ["first page", "The sterile store key is kept in locker 12."])
    docmaker.make_text(root / "top.txt", "Top level note about the linen cupboard.")
    (root / ".hidden.txt").write_text("hidden file")
    (root / "photo.xyz").write_bytes(b"\x00\x01")
    outcomes = engine.ingest_service().ingest([root])
    by_name = {o.path.name: o for o in outcomes}
    assert by_name["deep.pdf"].status == "ingested" and by_name["deep.pdf"].pages == 2
    assert by_name["top.txt"].status == "ingested"
    assert by_name["photo.xyz"].status == "skipped" and ".xyz" in (by_name["photo.xyz"].reason or "")
    assert ".hidden.txt" not in by_name
    best = engine.search_service().search("Where is the sterile store key?", k=1)[0]
    assert Path(best.path).name == "deep.pdf" and best.page == 2 and best.label == "Page 2"


def test_unchanged_file_does_no_work(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = docmaker.make_text(tmp_path / "note.txt", "The generator test is every Tuesday at 07:00.")
    service = engine.ingest_service()
    assert [o.status for o in service.ingest([doc])] == ["ingested"]
    ids_before = engine.store.chunk_ids(engine.library.get(doc.resolve()).doc_id)

    pools: list[object] = []
    real_pool = ingest_module.ParserPool
    monkeypatch.setattr(ingest_module, "ParserPool", lambda **kw: pools.append(kw) or real_pool(**kw))
    assert [o.status for o in service.ingest([doc])] == ["unchanged"]
    # Touched but identical content: still unchanged (content hash), and no parser started.
    os.utime(doc, ns=(1, 1))
    assert [o.status for o in service.ingest([doc])] == ["unchanged"]
    assert pools == []
    assert engine.store.chunk_ids(engine.library.get(doc.resolve()).doc_id) == ids_before


def test_changed_file_replaces_its_chunks(engine: Engine, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "board.md", "The ward 4 charge nurse this week is Sister Amara Obi.")
    service = engine.ingest_service()
    service.ingest([doc])
    doc.write_text("The ward 4 charge nurse this week is Brother Tomas Vega.\n\n" + "Filler line. " * 400)
    assert [o.status for o in service.ingest([doc])] == ["ingested"]
    texts = " ".join(_texts(engine, "Who is the ward 4 charge nurse?", k=20))
    assert "Tomas Vega" in texts and "Amara Obi" not in texts
    record = engine.library.get(doc.resolve())
    assert record.chunk_count > 1
    assert len(engine.store.chunk_ids(record.doc_id)) == record.chunk_count == engine.store.count()


def test_remove_deletes_every_chunk(engine: Engine, tmp_path: Path) -> None:
    keep = docmaker.make_text(tmp_path / "keep.txt", "Keep: the pharmacy opens at 08:00.")
    gone = docmaker.make_pdf(tmp_path / "gone.pdf", ["Secret canary ZEBRA-5521 on page one."] * 3)
    service = engine.ingest_service()
    service.ingest([keep, gone])
    gone_id = engine.library.get(gone.resolve()).doc_id
    assert len(engine.store.chunk_ids(gone_id)) == 3
    assert service.remove(gone) is True
    assert engine.store.chunk_ids(gone_id) == []
    assert engine.library.get(gone.resolve()) is None
    assert all("ZEBRA" not in t for t in _texts(engine, "canary ZEBRA-5521", k=10))
    assert service.remove(gone) is False


def test_one_broken_file_never_stops_the_batch(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(os.urandom(4096))
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "empty.txt").write_text("   \n")
    good = docmaker.make_text(tmp_path / "good.txt", "The good file says the lift is out of order.")
    outcomes = engine.ingest_service().ingest(sorted(tmp_path.iterdir()) + [tmp_path / "missing.pdf"])
    status = {o.path.name: (o.status, o.reason) for o in outcomes}
    assert status["good.txt"][0] == "ingested"
    for name in ("broken.pdf", "broken.docx", "empty.txt", "missing.pdf"):
        assert status[name][0] == "failed", status[name]
        assert status[name][1], f"{name} failed without a reason"
    assert "PDF" in status["broken.pdf"][1]
    assert status["missing.pdf"][1] == "no such file or folder"
    failed = {d.name: d.error for d in engine.library.all("failed")}
    assert set(failed) == {"broken.pdf", "broken.docx", "empty.txt"}
    assert engine.library.get(good.resolve()).status == "ready"


def test_interrupted_indexing_is_cleaned_up_on_next_open(engine: Engine, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "half.txt", "Half-written document.")
    # Simulate a crash between writing chunks and marking the document ready.
    doc_id = engine.library.mark_indexing(doc.resolve(), content_hash="x", size=1, mtime_ns=1,
                                          embedder=engine.store.embedder_id)
    vec = engine.embedder.embed(["Half-written document."])
    engine.store.add([StoredChunk(f"{doc_id}:0", doc_id, "Half-written document.", None, None, 0, 0, 22, 0)], vec)
    assert engine.library.get(doc.resolve()).status == INDEXING
    service = engine.ingest_service()  # opening the service recovers
    assert engine.store.chunk_ids(doc_id) == []
    assert engine.library.get(doc.resolve()) is None
    assert [o.status for o in service.ingest([doc])] == ["ingested"]


def test_small_files_are_embedded_together_and_each_keeps_its_own_chunks(engine: Engine, tmp_path: Path) -> None:
    """Many short files share one embedding call; each still gets exactly its own vectors and
    chunks, in document order, and a broken file among them is reported in its place."""
    root = tmp_path / "notes"
    root.mkdir()
    for i in range(40):
        docmaker.make_text(root / f"note{i:02d}.txt", f"Locker {i} holds the spare key for room {100 + i}.")
    (root / "note20b.pdf").write_bytes(b"%PDF-1.4 broken")
    real = engine.embedder
    calls: list[int] = []

    class CountingEmbedder:  # the real embedder, counting the texts of each embed() call
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def embed(self, texts, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return real.embed(texts, **kwargs)

    service = engine.ingest_service()
    service.embedder = CountingEmbedder()  # type: ignore[assignment]
    outcomes = service.ingest([root])
    assert [o.path.name for o in outcomes] == sorted(p.name for p in root.iterdir())
    assert [o.status for o in outcomes].count("ingested") == 40
    assert next(o for o in outcomes if o.path.name == "note20b.pdf").status == "failed"
    assert calls == [40], "40 one-chunk files should be embedded in one call"
    for i in (0, 17, 39):
        doc = engine.library.get(root / f"note{i:02d}.txt")
        assert doc is not None and doc.chunk_count == 1
        assert engine.store.document_texts(doc.doc_id) == [f"Locker {i} holds the spare key for room {100 + i}."]
        hit = engine.search_service().search(f"spare key for room {100 + i}", k=1)[0]
        assert hit.doc_id == doc.doc_id


def test_sanctums_own_data_folder_is_never_read_as_documents(engine: Engine, home: Path, tmp_path: Path) -> None:
    # The data folder sits inside the folder the user adds (tmp_path holds both).
    docmaker.make_text(tmp_path / "handover.txt", "Handover is at 07:30 on ward 4.")
    engine.audit.record("settings.changed", changes={})  # an audit.log (a .log is a supported text type)
    (home / "notes.txt").write_text("not a document of the user's")
    outcomes = engine.ingest_service().ingest([tmp_path])
    paths = {Path(d.path) for d in engine.library.all()}
    assert paths == {(tmp_path / "handover.txt").resolve()}
    assert not any(home.resolve() in Path(o.path).parents for o in outcomes)
    named = engine.ingest_service().ingest([home / "notes.txt"])
    assert [o.status for o in named] == ["skipped"] and "Sanctum's own data folder" in (named[0].reason or "")
