"""Several libraries: documents belong to one, searches and questions choose which ones to use."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.core.answer.service import Sources
from app.core.crypto import Cipher
from app.core.engine import Engine
from app.core.errors import SanctumError
from app.core.storage.registry import DEFAULT_LIBRARY, SCHEMA_VERSION, Library
from tests import docmaker
from tests.conftest import sanctum

# The registry as the first release wrote it (schema 1), with one ready document.
_V1 = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, content_hash TEXT, size INTEGER, mtime_ns INTEGER,
    format TEXT, title TEXT, page_count INTEGER, chunk_count INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,
    error TEXT, embedder TEXT, added_at REAL NOT NULL, updated_at REAL NOT NULL);
INSERT INTO documents VALUES ('abc', '/data/old.pdf', 'h', 10, 20, 'pdf', NULL, 2, 3, 'ready', NULL,
                              'all-MiniLM-L6-v2/384', 1.0, 1.0);
PRAGMA user_version = 1;
"""


def _cipher() -> Cipher:
    return Cipher(bytes(range(32)))


def test_an_unencrypted_registry_of_an_early_version_is_refused_with_what_to_do(tmp_path: Path) -> None:
    db_path = tmp_path / "library.sqlite3"
    with sqlite3.connect(db_path) as db:
        db.executescript(_V1)
    with pytest.raises(SanctumError, match="did not encrypt it.*sanctum wipe"):
        Library(db_path, cipher=_cipher())
    with sqlite3.connect(db_path) as db:  # refused, not changed: the old rows are still there
        assert db.execute("SELECT path FROM documents").fetchall() == [("/data/old.pdf",)]


def test_an_empty_registry_of_an_early_version_is_migrated(tmp_path: Path) -> None:
    db_path = tmp_path / "library.sqlite3"
    with sqlite3.connect(db_path) as db:
        db.executescript(_V1.split("INSERT")[0] + "PRAGMA user_version = 1;")
    lib = Library(db_path, cipher=_cipher())
    try:
        lib.mark_indexing(Path("/data/new.pdf"), content_hash="h", size=1, mtime_ns=1, embedder="e")
        assert [d.path for d in lib.all()] == ["/data/new.pdf"]
        assert [i.name for i in lib.libraries()] == [DEFAULT_LIBRARY]
    finally:
        lib.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT typeof(path) FROM documents").fetchone()[0] == "blob"
    Library(db_path, cipher=_cipher()).close()  # opening a current one again changes nothing


def test_prefix_queries_work_on_encrypted_paths(tmp_path: Path) -> None:
    lib = Library(tmp_path / "library.sqlite3", cipher=_cipher())
    try:
        for path in ("/ward/a.pdf", "/ward/sub/b.pdf", "/ward2/c.pdf", "/ward/mail.eml", "/ward/mail.eml › x.pdf"):
            lib.mark_indexing(Path(path), content_hash="h", size=1, mtime_ns=1, embedder="e")
        assert sorted(lib.under(Path("/ward"))) == ["/ward/a.pdf", "/ward/mail.eml", "/ward/mail.eml › x.pdf",
                                                    "/ward/sub/b.pdf"]
        assert [d.path for d in lib.children(Path("/ward/mail.eml"), " › ")] == ["/ward/mail.eml › x.pdf"]
        lib.add_watched(Path("/ward"), DEFAULT_LIBRARY)
        assert [w.path for w in lib.watched()] == [Path("/ward")]
    finally:
        lib.close()
    raw = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith("library.sqlite3"))
    assert b"ward" not in raw  # neither documents' nor followed folders' paths are readable on disk


def test_a_newer_registry_is_refused_with_a_message(tmp_path: Path) -> None:
    db_path = tmp_path / "library.sqlite3"
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SanctumError, match="newer version of Sanctum"):
        Library(db_path, cipher=_cipher())


def test_library_crud(tmp_path: Path) -> None:
    lib = Library(tmp_path / "library.sqlite3", cipher=_cipher())
    try:
        assert lib.create_library("  Cardiology   guidelines ") == "Cardiology guidelines"
        with pytest.raises(SanctumError, match="already exists"):
            lib.create_library("cardiology GUIDELINES")
        with pytest.raises(SanctumError, match="needs a name"):
            lib.create_library("   ")
        doc = Path("/x/ecg.pdf")
        lib.mark_indexing(doc, content_hash="h", size=1, mtime_ns=1, embedder="e", library="Cardiology guidelines")
        lib.add_watched(Path("/x"), "Cardiology guidelines")
        assert lib.rename_library("Cardiology guidelines", "Cardiology") == "Cardiology"
        assert lib.get(doc).library == "Cardiology" and lib.watched()[0].library == "Cardiology"
        with pytest.raises(SanctumError, match="still holds documents"):
            lib.drop_library("Cardiology")
        with pytest.raises(SanctumError, match="cannot be deleted"):
            lib.drop_library(DEFAULT_LIBRARY)
        with pytest.raises(SanctumError, match='create it with: sanctum library create "Nope"'):
            lib.require_library("Nope")
        # Re-indexing without naming a library keeps the document where it is.
        lib.mark_indexing(doc, content_hash="h2", size=2, mtime_ns=2, embedder="e")
        assert lib.get(doc).library == "Cardiology"
        lib.delete(lib.get(doc).doc_id)
        lib.drop_library("Cardiology")
        assert [i.name for i in lib.libraries()] == [DEFAULT_LIBRARY]
        assert lib.watched() == []
    finally:
        lib.close()


def test_search_and_ask_only_use_the_chosen_libraries(engine: Engine, tmp_path: Path) -> None:
    cardio = docmaker.make_text(tmp_path / "cardio.txt", "Troponin is repeated three hours after chest pain onset.")
    hr = docmaker.make_text(tmp_path / "hr.txt", "Sick leave must be reported before 07:00 on the first day.")
    mine = docmaker.make_text(tmp_path / "mine.txt", "My locker code is kept in the ward office.")
    engine.library.create_library("Cardiology guidelines")
    engine.library.create_library("HR policies")
    service = engine.ingest_service()
    service.ingest([cardio], library="Cardiology guidelines")
    service.ingest([hr], library="HR policies")
    service.ingest([mine])
    with pytest.raises(SanctumError, match="no library named 'Oncology'"):
        service.ingest([mine], library="Oncology")

    search = engine.search_service()
    everywhere = {Path(p.path).name for p in search.search("when is it done", k=10)}
    assert everywhere == {"cardio.txt", "hr.txt", "mine.txt"}
    only_hr = search.search("troponin after chest pain", k=10, libraries=["HR policies"])
    assert {Path(p.path).name for p in only_hr} == {"hr.txt"}
    two = search.search("troponin", k=10, libraries=["HR policies", "Cardiology guidelines"])
    assert {Path(p.path).name for p in two} == {"cardio.txt", "hr.txt"}
    assert search.search("troponin", k=10, libraries=[]) == []

    events = engine.ask_service().ask("When is troponin repeated?", libraries=["Cardiology guidelines"])
    first = next(events)
    events.close()  # the sources are what this test is about; no need to generate
    assert isinstance(first, Sources) and {Path(p.path).name for p in first.passages} == {"cardio.txt"}



def test_library_commands(home: Path, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "rota.txt", "The HR office is open Monday to Thursday.")
    assert sanctum("library", "create", "HR policies").returncode == 0
    dup = sanctum("library", "create", "HR policies")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    assert sanctum("ingest", "--library", "HR policies", str(doc)).returncode == 0
    listed = json.loads(sanctum("libraries", "--json").stdout)
    assert [(x["name"], x["ready"]) for x in listed] == [("My documents", 0), ("HR policies", 1)]
    found = json.loads(sanctum("search", "HR office hours", "--library", "HR policies", "--json").stdout)
    assert [Path(f["path"]).name for f in found] == ["rota.txt"]
    elsewhere = sanctum("search", "HR office hours", "--library", "My documents")
    assert elsewhere.returncode == 0 and "No passages in the chosen libraries" in elsewhere.stdout
    unknown = sanctum("ask", "When is HR open?", "--library", "Payroll")
    assert unknown.returncode == 1 and "no library named 'Payroll'" in unknown.stderr
    deleted = sanctum("library", "delete", "HR policies")
    assert deleted.returncode == 0 and "1 documents removed" in deleted.stdout
    assert json.loads(sanctum("docs", "--json").stdout) == []
