"""Encryption at rest and forgetting, proven on the bytes on disk (real models, real Chroma, real keyring)."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest

from app.core.answer.service import Done
from app.core.crypto import DataLocked
from app.core.engine import Engine
from app.core.privacy.audit import DOCUMENT_ADDED, DOCUMENT_REMOVED, KEY_CREATED, QUESTION_ASKED
from tests import docmaker


def _canary() -> str:
    return "QZX" + secrets.token_hex(6).upper()


def _encodings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be"),
            text.lower().encode("utf-8"), text.encode("utf-32-le")]


def _files_with(root: Path, needles: list[bytes]) -> list[str]:
    """Every file under ``root`` (SQLite, its WAL, HNSW segments, settings, logs …) holding a needle."""
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.relative_to(root)} ({needle[:12]!r})" for needle in needles if needle in data]
    return hits


def test_a_canary_never_reaches_the_disk_in_plaintext(engine: Engine, home: Path, tmp_path: Path) -> None:
    canary, sheet_canary = _canary(), _canary()
    docs = tmp_path / "docs"
    docs.mkdir()
    docmaker.make_html(docs / f"discharge-{canary}.html", f"Discharge summary {canary}",
                       f"<p>The code word for the patient in bed 12 is {canary}. Penicillin allergy.</p>")
    docmaker.make_xlsx(docs / "ledger.xlsx", {f"Client {sheet_canary}": [["Client", "Balance"], ["Acme", 1200]]})
    outcomes = engine.ingest_service().ingest([docs])
    assert [o.status for o in outcomes] == ["ingested", "ingested"]

    # Everything reads back decrypted: library titles and paths, chunk text, labels.
    titles = {d.title for d in engine.library.all()}
    assert f"Discharge summary {canary}" in titles
    assert any(canary in d.path for d in engine.library.all())
    passages = engine.search_service().search("code word for the patient in bed 12", k=3)
    assert canary in passages[0].text
    assert any(sheet_canary in (p.label or "") for p in engine.search_service().search("Acme balance", k=3))

    question = f"What is the code word for the patient in bed 12 (not {canary[:6]})?"
    done = [e for e in engine.ask_service().ask(question) if isinstance(e, Done)][0]
    assert canary in done.answer or any(canary in c.text for c in done.citations), done.answer
    engine.close()  # flush and close every file, as at exit

    needles = [*_encodings(canary), *_encodings(sheet_canary), *_encodings(question)]
    assert _files_with(home, needles) == []
    # It is the encryption that hides it: the store holds the text's ciphertext, and the key is not on disk.
    assert (home / "store" / "chroma.sqlite3").stat().st_size > 0
    assert (home / "keyinfo.json").exists() and (home / "audit.log").exists()

    reopened = Engine(home, embedder=engine.embedder)
    events = [r.event for r in reopened.audit.records()]
    assert events[0] == KEY_CREATED and events.count(DOCUMENT_ADDED) == 2 and QUESTION_ASKED in events
    asked = [r for r in reopened.audit.records() if r.event == QUESTION_ASKED][0]
    assert "question" not in asked.details and asked.details["question_hmac"] == reopened.audit.question_hash(question)
    assert reopened.audit.verify().ok
    reopened.close()


def test_full_question_logging_is_a_setting(engine: Engine) -> None:
    engine.update_settings(audit_full_questions=True)
    engine.audit.question("Who is on call on Saturday?")
    records = list(engine.audit.records())
    assert records[-2].event == "settings.changed"
    assert records[-2].details["changes"]["audit_full_questions"] == {"from": False, "to": True}
    assert records[-1].details["question"] == "Who is on call on Saturday?"


def test_a_removed_document_is_forgotten(engine: Engine, home: Path, tmp_path: Path) -> None:
    gone_canary, kept_canary = _canary(), _canary()
    gone = docmaker.make_text(tmp_path / "gone.txt", f"Ward 9 night protocol: the door code is {gone_canary}.")
    kept = docmaker.make_text(tmp_path / "kept.txt", f"Ward 3 day protocol: the door code is {kept_canary}.")
    service = engine.ingest_service()
    service.ingest([gone, kept])
    gone_id = engine.library.get(gone.resolve()).doc_id
    chunk_id = engine.store.chunk_ids(gone_id)[0]
    from app.core.storage.vectors import TEXT_KEY

    sealed_text = engine.store._collection.get(ids=[chunk_id], include=["metadatas"])["metadatas"][0][TEXT_KEY]
    with sqlite3.connect(home / "library.sqlite3") as db:
        wrapped_key = bytes(db.execute("SELECT doc_key FROM documents WHERE doc_id=?", (gone_id,)).fetchone()[0])
    assert gone_canary not in sealed_text
    assert _files_with(home, [wrapped_key])  # on disk (the database or its WAL) while the document is there

    assert gone_id in engine.keywords.documents()
    assert service.remove(gone)
    assert gone_id not in engine.keywords.documents()  # its keyword-index entries went with it
    assert engine.library.get(gone.resolve()) is None and engine.store.chunk_ids(gone_id) == []
    hits = engine.search_service().search("Ward 9 night protocol door code", k=5)
    assert all(p.doc_id != gone_id for p in hits) and kept_canary in hits[0].text
    assert engine.library.doc_cipher(gone_id) is None
    engine.close()
    # The document key is gone from every byte on disk (secure_delete, WAL truncated) …
    assert _files_with(home, [wrapped_key]) == []
    assert _files_with(home, _encodings(gone_canary)) == []
    # … so whatever copy of the chunk Chroma keeps after a delete can no longer be read by anyone.
    reopened = Engine(home)
    with pytest.raises(DataLocked):
        reopened.cipher.decrypt_text(sealed_text, aad=chunk_id.encode())
    removed = [r for r in reopened.audit.records() if r.event == DOCUMENT_REMOVED]
    assert removed and "path" not in removed[0].details  # a keyed hash of it, not the file name
    assert removed[0].details["path_hmac"] == reopened.audit.path_hash(gone.resolve())
    assert [r.event for r in reopened.audit.records_for_path(gone.resolve())] == [DOCUMENT_ADDED, DOCUMENT_REMOVED]
    reopened.close()


def test_a_library_whose_key_info_is_gone_is_refused_not_replaced(engine: Engine, home: Path, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "a.txt", "Insulin is stored in the second fridge.")
    engine.ingest_service().ingest([doc])
    engine.close()
    (home / "keyinfo.json").unlink()
    with pytest.raises(DataLocked, match="keyinfo.json"):
        Engine(home).library.all()
    assert not (home / "keyinfo.json").exists()  # no new key was made over the old data
