"""The services front ends call: documents, conversations and privacy keep their records together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder
from app.core.values import ASSISTANT, USER, Citation
from tests.conftest import typed_passphrase


@pytest.fixture
def lean_engine(home: Path, embedder: Embedder) -> Iterator[Engine]:
    """An engine sharing the session's embedder; no chat model is loaded (none is asked for)."""
    eng = Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase)
    yield eng
    eng.close()


def _events(engine: Engine) -> list[str]:
    return [r.event for r in engine.audit.records()]


def test_removing_a_failed_document_goes_through_the_service_and_the_audit_log(
        lean_engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    good, broken = folder / "ward.txt", folder / "broken.pdf"
    good.write_text("The central line dressing is changed every seven days.", encoding="utf-8")
    broken.write_bytes(b"%PDF-1.7 this is not a real PDF")
    documents = lean_engine.document_service()
    outcomes = {o.path.name: o.status for o in documents.add([folder])}
    assert outcomes == {"ward.txt": "ingested", "broken.pdf": "failed"}

    failed = documents.all("failed")
    assert [d.name for d in failed] == ["broken.pdf"]
    broken.unlink()  # gone from disk too: it must still be removable by the path the library lists
    removed = documents.remove(failed[0].path)
    assert removed is not None and removed.doc_id == failed[0].doc_id
    assert documents.get(failed[0].path) is None
    assert _events(lean_engine).count("document.removed") == 1

    assert documents.remove(good) is not None
    assert documents.all() == []
    assert lean_engine.store.chunk_ids(removed.doc_id) == []
    assert _events(lean_engine).count("document.removed") == 2
    assert documents.remove(good) is None  # already gone


def test_conversations_are_found_and_exported_with_an_audit_record(lean_engine: Engine, tmp_path: Path) -> None:
    conversations = lean_engine.conversation_service()
    saved = conversations.create("Night shift handover")
    conversations.append(saved.conv_id, USER, "Who is on call? Call 07700 900123.")
    conversations.append(saved.conv_id, ASSISTANT, "Dr Okafor is on call.",
                         citations=[Citation(n=1, path="/rota.pdf", page=2, label="Page 2", text="On call: Okafor")])
    assert conversations.find("night shift HANDOVER").conv_id == saved.conv_id
    with pytest.raises(Exception, match="no saved conversation is called 'Day shift'"):
        conversations.find("Day shift")

    result = conversations.export(conversations.get(saved.conv_id), tmp_path / "handover.md", redact=True)
    text = result.path.read_text(encoding="utf-8")
    assert "Dr [NAME] is on call." in text and "Okafor" not in text and "07700 900123" not in text
    record = [r for r in lean_engine.audit.records() if r.event == "conversation.exported"][-1]
    assert record.details["turns"] == 2 and record.details["redacted"] is True


def test_the_app_lock_records_its_changes_and_failed_unlocks(lean_engine: Engine) -> None:
    privacy = lean_engine.privacy_service()
    assert not privacy.lock.enabled
    assert privacy.set_lock("correct horse battery", idle_minutes=5, current=None) is False
    assert privacy.lock.enabled and privacy.lock.idle_minutes == 5
    assert privacy.unlock("wrong passphrase") is False
    assert privacy.unlock("correct horse battery") is True
    privacy.clear_lock("correct horse battery")
    assert not privacy.lock.enabled
    events = _events(lean_engine)
    assert events.count("applock.unlock_failed") == 1
    assert "applock.set" in events and "applock.cleared" in events
    assert privacy.verify_audit().ok


def test_wipe_closes_the_engine_then_deletes_the_data(lean_engine: Engine, home: Path) -> None:
    lean_engine.conversation_service().create("To be wiped")
    removed = lean_engine.privacy_service().wipe()
    assert "conversations.sqlite3" in removed
    assert not any(home.iterdir())


def test_citation_clicks_share_the_process_parser_worker(lean_engine: Engine, tmp_path: Path) -> None:
    """Finding a cited passage in its file uses the engine's one parser process, not a new one per click."""
    import multiprocessing

    notes = tmp_path / "notes.txt"
    notes.write_text("Intro line.\n\nCentral line dressings are changed every 7 days.\n", encoding="utf-8")
    sources = lean_engine.source_service()
    before = {p.pid for p in multiprocessing.active_children()}
    for _ in range(3):
        loc = sources.locate(notes, text="Central line dressings are changed every 7 days.")
        assert loc.exact and loc.text[loc.start:loc.end].startswith("Central line")
    started = {p.pid for p in multiprocessing.active_children()} - before
    assert len(started) == 1, f"{len(started)} parser processes for three clicks"
    lean_engine.close()  # the worker stops with the engine
    assert not ({p.pid for p in multiprocessing.active_children()} & started)
