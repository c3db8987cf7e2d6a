"""Forgetting is complete: after a removal (or a re-index of a changed file) no byte of the old
document is left in any file of the data folder: not its text, not its vectors (in Chroma's SQLite
file, its log, or its HNSW index files), not its key (in the library or its WAL), not its passages in
saved conversations, not its path in the audit log.

On today's main a removed document's vectors stay in Chroma's HNSW ``data_level0.bin`` (a delete only
marks them) and in the segment folder of a dropped collection, and saved answers keep its passages.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from app.core.crypto import Cipher
from app.core.engine import Engine
from app.core.privacy.audit import DOCUMENT_ADDED, DOCUMENT_REMOVED
from app.core.storage.conversations import ASSISTANT, USER, Citation, EvidenceQuote
from app.core.storage.vectors import TEXT_KEY, StoredChunk, VectorStore
from tests import docmaker


def _vector_hits(data: bytes, vector: np.ndarray) -> int:
    """How many times ``vector`` (as written, or normalised as the cosine HNSW index keeps it) appears in
    ``data`` as float32, at any byte alignment; normalising may change the last bits, so it is compared
    with a tolerance."""
    hits = 0
    vector = np.asarray(vector, dtype=np.float32)
    for target in (vector, vector / np.linalg.norm(vector)):
        head = target[:8]
        for offset in range(4):
            usable = (len(data) - offset) // 4 * 4
            if usable < 32:
                continue
            floats = np.frombuffer(data[offset:offset + usable], dtype=np.float32)
            with np.errstate(invalid="ignore"):
                starts = np.flatnonzero(np.abs(floats[:len(floats) - 7] - head[0]) < 1e-5)
            hits += sum(bool(np.allclose(floats[i:i + 8], head, atol=1e-5)) for i in starts)
    return hits


def traces(root: Path, needles: list[bytes], vectors: list[np.ndarray]) -> list[str]:
    """Every file under ``root`` (databases, their -wal/-shm, HNSW binaries …) holding a needle or a vector."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)}: bytes {n[:16]!r}" for n in needles if n in data]
        found += [f"{path.relative_to(root)}: vector {i}" for i, v in enumerate(vectors) if _vector_hits(data, v)]
    return found


def _chunk(doc_id: str, seq: int, text: str) -> StoredChunk:
    return StoredChunk(chunk_id=f"{doc_id}:{seq}", doc_id=doc_id, text=text, page=None, label=None, seq=seq,
                       start=0, end=len(text), section=0)


def test_compaction_leaves_no_vector_of_a_removed_document_in_chromas_files(tmp_path: Path) -> None:
    keys = {"others": Cipher(bytes(32)), "canary": Cipher(bytes(range(32)))}
    store = VectorStore(tmp_path / "store", embedder_id="test", key_for=keys.get)
    rng = np.random.default_rng(7)
    # More than Chroma's HNSW sync threshold (1000), so the index files on disk hold the vectors.
    others = rng.standard_normal((1200, 384)).astype(np.float32)
    store.add([_chunk("others", i, f"other passage {i}") for i in range(1200)], others)
    canary = rng.standard_normal((3, 384)).astype(np.float32)
    store.add([_chunk("canary", i, f"CANARY passage {i}") for i in range(3)], canary)
    store.add([_chunk("others", 1200 + i, "later") for i in range(1100)],
              rng.standard_normal((1100, 384)).astype(np.float32))
    sealed = store._collection.get(ids=["canary:0"], include=["metadatas"])["metadatas"][0][TEXT_KEY].encode()
    assert traces(store.folder, [sealed], list(canary)), "the test must see the canary while it is there"

    store.delete_document("canary")
    assert store.needs_compaction
    # What a delete alone leaves (today's main stopped here): the vectors in the HNSW index files.
    assert any("data_level0.bin" in t for t in traces(store.folder, [], list(canary)))

    assert store.compact()
    assert not store.needs_compaction and not store.compact()  # nothing more to do
    assert traces(store.folder, [sealed, b"canary:0", b"canary:2"], list(canary)) == []
    assert store.count() == 2300
    for vec in canary:  # searched by its exact embedding, it is not found
        assert all(h.doc_id != "canary" for h in store.query(vec, k=5))
    best = store.query(others[5], k=1)[0]  # the rest is intact and searchable
    assert best.chunk_id == "others:5" and best.text == "other passage 5" and best.score > 0.999
    again = VectorStore(tmp_path / "store", embedder_id="test", key_for=keys.get)  # and survives a reopen
    assert again.count() == 2300 and again.query(others[7], k=1)[0].chunk_id == "others:7"


def test_a_compaction_cut_short_is_finished_or_redone_on_open(tmp_path: Path) -> None:
    keys = {"a": Cipher(bytes(32))}
    store = VectorStore(tmp_path / "store", embedder_id="test", key_for=keys.get)
    vectors = np.random.default_rng(1).standard_normal((20, 384)).astype(np.float32)
    store.add([_chunk("a", i, f"passage {i}") for i in range(20)], vectors)
    store.delete_document("nothing")  # marks a compaction as pending
    # Killed after the copy was made and the old collection dropped, before the rename:
    fresh = store._client.create_collection("chunks-rebuilding", configuration={"hnsw": {"space": "cosine"}},
                                            metadata=store._collection.metadata, embedding_function=None)
    part = store._collection.get(include=["embeddings", "metadatas"])
    fresh.add(ids=part["ids"], embeddings=part["embeddings"], metadatas=part["metadatas"])
    store._client.delete_collection("chunks")
    reopened = VectorStore(tmp_path / "store", embedder_id="test", key_for=keys.get)
    assert reopened.count() == 20 and reopened.needs_compaction
    assert reopened.compact() and reopened.query(vectors[3], k=1)[0].chunk_id == "a:3"
    assert {c.name for c in reopened._client.list_collections()} == {"chunks"}


@pytest.mark.slow
def test_remove_and_reindex_leave_no_trace_of_the_old_document(engine: Engine, home: Path, tmp_path: Path) -> None:
    canary, changed_canary = f"CANARY{secrets.token_hex(6)}", f"CANARY{secrets.token_hex(6)}"
    name = f"patient-{secrets.token_hex(4)}-discharge.txt"
    doc = docmaker.make_text(tmp_path / name, f"Discharge note. The ward door code is {canary}. "
                                              "Dressing changed every 48 hours.")
    kept = docmaker.make_text(tmp_path / "kept.txt", "Ward 3 day protocol: visitors sign in at the desk.")
    service = engine.ingest_service()
    service.ingest([doc, kept])
    doc_id = engine.library.get(doc.resolve()).doc_id

    def snapshot() -> tuple[list[np.ndarray], bytes]:
        pairs = engine.store.fetch(engine.store.chunk_ids(doc_id))
        with sqlite3.connect(home / "library.sqlite3") as db:
            key = bytes(db.execute("SELECT doc_key FROM documents WHERE doc_id=?", (doc_id,)).fetchone()[0])
        return [v for _, v in pairs], key

    first_vectors, first_key = snapshot()
    assert first_vectors and traces(home, [first_key], first_vectors)

    # A saved conversation quotes it.
    store = engine.conversations()
    conv = store.create("Door code")
    store.append(conv.conv_id, USER, "What is the door code?")
    hit = engine.store.fetch(engine.store.chunk_ids(doc_id))[0][0]
    store.append(conv.conv_id, ASSISTANT, f"The door code is {canary} [1].",
                 citations=[Citation(n=1, path=str(doc.resolve()), page=None, label=None, text=hit.text,
                                     doc_id=doc_id),
                            Citation(n=2, path=str(kept.resolve()), page=None, label=None, text="Ward 3 day protocol",
                                     doc_id="other")],
                 evidence=[EvidenceQuote(n=1, path=str(doc.resolve()), page=None, label=None,
                                         text=f"The ward door code is {canary}.", quote=f"door code is {canary}")])

    # The file changes and is re-indexed: its old vectors and old key are gone.
    doc.write_text(f"Discharge note, amended. The ward door code is {changed_canary}. Dressing changed daily.")
    service.ingest([doc])
    new_vectors, new_key = snapshot()
    assert new_key != first_key and traces(home, [first_key], first_vectors) == []

    # Removed: nothing of it is left anywhere in the data folder.
    assert service.remove(doc)
    for vec in first_vectors + new_vectors:
        assert all(h.doc_id != doc_id for h in engine.store.query(vec, k=3))
    messages = store.messages(conv.conv_id)
    answer = messages[-1]
    assert answer.citations[0].removed and answer.citations[0].path == "" and answer.citations[0].text == ""
    assert not answer.citations[1].removed and answer.evidence == []
    assert canary in answer.text  # the user's choice (the default): the answer's own words stay
    engine.close()

    needles = [canary.encode(), changed_canary.encode(), name.encode(), first_key, new_key, hit.text.encode()]
    assert traces(home, needles[2:], first_vectors + new_vectors) == []  # the conversation keeps the answer text
    reopened = Engine(home, embedder=engine.embedder)
    added = [r for r in reopened.audit.records() if r.event in (DOCUMENT_ADDED, DOCUMENT_REMOVED)]
    assert added and all("path" not in r.details for r in added)  # a keyed hash, never the file name
    mine = reopened.audit.records_for_path(doc.resolve())
    assert [r.event for r in mine] == [DOCUMENT_ADDED, DOCUMENT_ADDED, DOCUMENT_REMOVED]
    assert reopened.audit.verify().ok
    reopened.close()


def test_answers_can_go_with_their_source(engine: Engine, tmp_path: Path) -> None:
    engine.update_settings(forget_answers_with_source=True)
    canary = f"CANARY{secrets.token_hex(6)}"
    doc = docmaker.make_text(tmp_path / "note.txt", f"The locker code is {canary}.")
    service = engine.ingest_service()
    service.ingest([doc])
    doc_id = engine.library.get(doc.resolve()).doc_id
    store = engine.conversations()
    conv = store.create("Locker")
    store.append(conv.conv_id, ASSISTANT, f"The locker code is {canary}.",
                 citations=[Citation(n=1, path=str(doc), page=None, label=None, text=canary, doc_id=doc_id)])
    with service.removals():
        assert service.remove(doc)
    answer = store.messages(conv.conv_id)[-1]
    assert canary not in answer.text and "deleted with the document" in answer.text
    engine.close()
    assert traces(engine.paths.root, [canary.encode()], []) == []


def test_cli_audit_file_finds_a_file_by_its_hashed_path(home: Path, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    doc = docmaker.make_text(tmp_path / "mrs-jones-letter.txt", "Appointment moved to Tuesday at 10.")
    assert run_cli("ingest", str(doc)).returncode == 0
    assert run_cli("remove", str(doc)).returncode == 0
    proc = run_cli("audit", "file", str(doc))
    assert proc.returncode == 0, proc.stderr
    assert [line.split("\t")[3] for line in proc.stdout.splitlines()] == [DOCUMENT_ADDED, DOCUMENT_REMOVED]
    export = run_cli("audit", "export")
    assert "mrs-jones" not in export.stdout and "path_hmac" in export.stdout
    proc = run_cli("audit", "file", str(tmp_path / "never-added.txt"))
    assert proc.returncode == 1 and "no record" in proc.stderr
