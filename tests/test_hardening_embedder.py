"""The embedding model a library was indexed with can switch Sanctum onto another backend (ONNX
Runtime for int8 vectors): it is sealed with the data key, so an edit from outside is refused with
a clear message instead of being followed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.storage.registry import LibraryTampered
from tests.conftest import typed_passphrase

TORCH_ID = "all-MiniLM-L6-v2"


def _library_with(home: Path, embedder: str) -> None:
    with Engine(home, settings=Settings(), passphrase=typed_passphrase) as engine:
        library = engine.library
        doc_id = library.mark_indexing(Path("/ward/rota.pdf"), content_hash="abc", size=10, mtime_ns=1,
                                       embedder=embedder)
        library.mark_ready(doc_id, format="pdf", title="Rota", page_count=1, chunk_count=3)


def test_a_library_indexed_with_int8_vectors_still_opens_on_onnx(home: Path) -> None:
    _library_with(home, f"{TORCH_ID}/int8")
    with Engine(home, settings=Settings(), passphrase=typed_passphrase) as engine:
        assert engine.embedding_backend() == "onnx-int8"


def test_an_embedder_altered_outside_sanctum_is_refused_not_followed(home: Path) -> None:
    _library_with(home, TORCH_ID)
    with sqlite3.connect(home / "library.sqlite3") as db:  # an edit that would switch the app onto ONNX Runtime
        db.execute("UPDATE documents SET embedder = embedder || '/int8'")
    with Engine(home, settings=Settings(), passphrase=typed_passphrase) as engine, \
            pytest.raises(LibraryTampered, match=r"changed outside Sanctum.*all-MiniLM-L6-v2/int8.*--reindex"):
        engine.embedding_backend()


def test_a_seal_removed_or_copied_from_another_row_is_refused_too(home: Path) -> None:
    _library_with(home, TORCH_ID)
    with sqlite3.connect(home / "library.sqlite3") as db:
        db.execute("UPDATE documents SET embedder_tag = NULL")
    with Engine(home, settings=Settings(), passphrase=typed_passphrase) as engine, pytest.raises(LibraryTampered):
        engine.embedding_backend()
