"""Thread rules: shared components used from several threads at once, as the GUI's lanes do."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from app.core.answer.service import Done
from app.core.config import Settings
from app.core.crypto import Cipher
from app.core.engine import Engine
from app.core.errors import ModelError
from app.core.models.embedder import Embedder
from app.core.storage.registry import Library
from tests.conftest import typed_passphrase


def test_a_write_from_another_thread_never_lands_in_a_batch(tmp_path: Path) -> None:
    """The registry's one connection is held by a batch until it commits: another thread's write
    waits for it instead of joining it (and being rolled back with it)."""
    library = Library(tmp_path / "library.sqlite3", cipher=Cipher(os.urandom(32)))
    inside, written = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_thread() -> None:
        inside.wait(10)
        try:
            library.create_library("Written by another thread")
        except BaseException as exc:
            errors.append(exc)
        written.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with pytest.raises(RuntimeError), library.batch():
        library.mark_failed(tmp_path / "a.pdf", error="damaged", size=1, mtime_ns=1)
        inside.set()
        written.wait(1.0)  # the other thread's write must not get in now
        raise RuntimeError("this batch fails and is rolled back")
    thread.join(10)
    assert not errors
    assert written.is_set()
    assert library.all() == []  # the batch's write was rolled back ...
    assert library.has_library("Written by another thread")  # ... the other thread's was not
    library.close()


def test_the_library_opens_while_the_chat_model_is_still_loading(home: Path, embedder: Embedder,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """One lock per component: a chat model that takes long to load holds up no one but its users.

    The slow load is a stand-in (no real model file loads slowly on demand): it blocks until
    released, then fails as a damaged file would."""
    started, release = threading.Event(), threading.Event()

    class SlowLoadingModel:
        def __init__(self, path: Path, **options: object) -> None:
            started.set()
            release.wait(60)
            raise ModelError(f"{path.name}: not a model (the test's stand-in for a slow load)")

    monkeypatch.setattr("app.core.engine.ChatModel", SlowLoadingModel)
    engine = Engine(home, settings=Settings(), embedder=embedder, chat_model=home / "slow.gguf",
                    passphrase=typed_passphrase)
    loading: list[BaseException] = []

    def load() -> None:
        try:
            engine.chat_model()
        except BaseException as exc:
            loading.append(exc)

    loader = threading.Thread(target=load)
    loader.start()
    assert started.wait(30)  # the loader now holds the chat model's lock
    opened: list[object] = []
    opener = threading.Thread(target=lambda: opened.append(engine.document_service().all()))
    opener.start()
    opener.join(20)
    finished_first = not opener.is_alive()
    release.set()
    loader.join(30)
    opener.join(30)
    engine.close()
    assert finished_first, "listing the documents waited for the chat model to load"
    assert opened == [[]]
    assert len(loading) == 1 and isinstance(loading[0], ModelError)


@pytest.mark.slow
def test_answers_keep_coming_while_300_files_are_read(home: Path, embedder: Embedder,
                                                      small_chat_model_path: Path, tmp_path: Path) -> None:
    """Ask question after question while a folder of 300 files is ingested: every question is
    answered, none fails (the chunker and the query share the embedder's tokenizer, the registry
    is written and read at once), and the ingest completes."""
    folder = tmp_path / "ward-notes"
    folder.mkdir()
    for i in range(300):
        (folder / f"note-{i:03d}.txt").write_text(
            f"Ward note {i}. Bed {i % 24} was checked at {i % 12 + 1} o'clock. The central line dressing on "
            f"bed {i % 24} is changed every seven days; the next change is due on day {i % 7 + 1}.\n",
            encoding="utf-8")
    (folder.parent / "protocol.txt").write_text(
        "Central line protocol: the dressing is changed every seven days, or sooner when it is wet or loose.",
        encoding="utf-8")
    engine = Engine(home, settings=Settings(max_answer_tokens=48, context_size=2048), embedder=embedder,
                    chat_model=small_chat_model_path, passphrase=typed_passphrase)
    engine.document_service().add([folder.parent / "protocol.txt"])
    outcome: dict[str, object] = {}

    def ingest() -> None:
        try:
            outcome["files"] = engine.document_service().add([folder])
        except BaseException as exc:
            outcome["error"] = exc

    reader = threading.Thread(target=ingest)
    reader.start()
    answers, failures = 0, []
    deadline = time.monotonic() + 1200
    while reader.is_alive() and time.monotonic() < deadline:
        try:
            events = list(engine.ask_service().ask("How often is the central line dressing changed?"))
        except Exception as exc:
            failures.append(exc)
            continue
        done = [e for e in events if isinstance(e, Done)]
        assert len(done) == 1 and done[0].answer.strip()
        answers += 1  # no pause: back-to-back questions must not stall the reading (the CPU gate takes turns)
    reader.join(600)
    engine.close()
    assert not failures, failures
    assert "error" not in outcome, outcome.get("error")
    files = outcome["files"]
    assert isinstance(files, list) and sum(o.status == "ingested" for o in files) == 300
    assert answers >= 2, f"only {answers} answers came while the folder was read"
