"""Followed folders: new, changed, renamed and deleted files are picked up, by a rescan and live."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.errors import SanctumError
from app.core.ingest.service import IngestService
from app.core.ingest.watch import WatchService
from app.core.models.embedder import Embedder
from tests import docmaker
from tests.conftest import sanctum, typed_passphrase

LATER = 60.0  # seconds: files written "now" are settled by then


@pytest.fixture
def eng(home: Path, embedder: Embedder) -> Iterator[Engine]:
    engine = Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase)
    yield engine
    engine.close()


def _watcher(engine: Engine, *, clock: Callable[[], float] | None = None,
             **kw: float) -> tuple[WatchService, list[int]]:
    """A watch service whose ingest provider counts how often the store/embedder were needed."""
    asked: list[int] = []

    def provider() -> IngestService:
        asked.append(1)
        return engine.ingest_service()

    later = clock or (lambda: time.time() + LATER)
    return WatchService(library=engine.library, ingest=provider, clock=later, **kw), asked


def _paths(engine: Engine) -> dict[str, str]:
    return {Path(d.path).name: d.status for d in engine.library.all()}


def test_rescan_picks_up_new_changed_renamed_and_deleted_files(eng: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "protocols"
    (folder / "sub").mkdir(parents=True)
    a = docmaker.make_text(folder / "a.txt", "Hand hygiene audits are done weekly on ward 3.")
    b = docmaker.make_pdf(folder / "sub" / "b.pdf", ["Fire doors must be closed at night."])
    (folder / "notes.xyz").write_text("unsupported, ignored")
    (folder / ".hidden.txt").write_text("hidden, ignored")
    outside = docmaker.make_text(tmp_path / "shared-note.txt", "The shared note lists the on-call pharmacist.")
    (folder / "link.txt").symlink_to(outside)  # recorded under its target's path
    eng.library.create_library("Ward protocols")
    watch, asked = _watcher(eng)
    watch.add(folder, library="Ward protocols")

    first = watch.rescan()
    assert sorted(o.path.name for o in first.outcomes if o.status == "ingested") == ["a.txt", "b.pdf",
                                                                                     "shared-note.txt"]
    assert {d.library for d in eng.library.all()} == {"Ward protocols"}

    a.write_text("Hand hygiene audits are done DAILY on ward 3.")
    os.utime(a, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))  # a different mtime for sure
    b.rename(folder / "sub" / "b-renamed.pdf")
    c = docmaker.make_text(folder / "sub" / "c.md", "# Falls\nFalls risk is assessed on admission.")
    second = watch.rescan()
    assert sorted((o.path.name, o.status) for o in second.outcomes) == [
        ("a.txt", "ingested"), ("b-renamed.pdf", "ingested"), ("c.md", "ingested")]
    assert [p.name for p in second.removed] == ["b.pdf"]
    assert _paths(eng) == {"a.txt": "ready", "b-renamed.pdf": "ready", "c.md": "ready", "shared-note.txt": "ready"}
    texts = [p.text for p in eng.search_service().search("hand hygiene audits", k=3)]
    assert any("DAILY" in t for t in texts) and not any("weekly" in t for t in texts)

    c.unlink()
    third = watch.rescan()
    assert [p.name for p in third.removed] == ["c.md"] and not third.outcomes
    assert sum(eng.library.get(p).chunk_count for p in (a.resolve(),)) > 0
    assert eng.store.count() == sum(d.chunk_count for d in eng.library.all())

    # Nothing changed: stat only, and the store/embedder are not even asked for.
    fresh, asked_again = _watcher(eng)
    quiet = fresh.rescan()
    assert quiet.unchanged == 3 and not quiet.changed and not quiet.deferred
    assert asked_again == []


def test_files_still_being_written_are_deferred_then_taken(eng: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    docmaker.make_text(folder / "copying.txt", "The new rota is published on Fridays.")
    now, asked = _watcher(eng, clock=time.time, settle_s=30.0)  # "now": the file is seconds old
    now.add(folder)
    pass1 = now.rescan()
    assert [p.name for p in pass1.deferred] == ["copying.txt"] and not pass1.outcomes
    assert asked == [] and eng.library.all() == []
    later, _ = _watcher(eng, settle_s=30.0)  # a minute later it has settled
    pass2 = later.rescan()
    assert [(o.path.name, o.status) for o in pass2.outcomes] == [("copying.txt", "ingested")]


def test_a_missing_folder_removes_nothing_and_nested_folders_keep_their_library(eng: Engine, tmp_path: Path) -> None:
    outer = tmp_path / "hospital"
    inner = outer / "hr"
    inner.mkdir(parents=True)
    docmaker.make_text(outer / "ward.txt", "Ward 5 has twelve beds.")
    docmaker.make_text(inner / "leave.txt", "Leave is requested two weeks ahead.")
    eng.library.create_library("HR policies")
    watch, _ = _watcher(eng)
    watch.add(outer)
    watch.add(inner, library="HR policies")
    watch.rescan()
    assert {Path(d.path).name: d.library for d in eng.library.all()} == {
        "ward.txt": "My documents", "leave.txt": "HR policies"}

    moved = tmp_path / "unplugged"
    outer.rename(moved)  # the drive is gone: its documents must stay
    result = watch.rescan()
    assert {p.name for p, _ in result.unavailable} == {"hospital", "hr"}
    assert not result.removed and len(eng.library.all()) == 2
    with pytest.raises(SanctumError, match="no such folder"):
        watch.add(tmp_path / "nowhere")


def test_run_follows_changes_live(eng: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "live"
    folder.mkdir()
    docmaker.make_text(folder / "before.txt", "Written while Sanctum was not running: theatre list at 08:00.")
    watch, _ = _watcher(eng, clock=time.time, settle_s=0.3, rescan_every_s=3600)
    watch.add(folder)
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            watch.run(stop=stop, debounce_s=0.2, poll_s=0.5)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=follow)
    thread.start()
    try:
        _wait_for(lambda: _paths(eng) == {"before.txt": "ready"}, eng)  # the catch-up pass on start
        docmaker.make_text(folder / "new.txt", "Added while following: the pharmacy closes at 18:00.")
        _wait_for(lambda: _paths(eng) == {"before.txt": "ready", "new.txt": "ready"}, eng)
        (folder / "new.txt").rename(folder / "renamed.txt")
        (folder / "before.txt").unlink()
        _wait_for(lambda: _paths(eng) == {"renamed.txt": "ready"}, eng)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive() and not errors
    best = eng.search_service().search("When does the pharmacy close?", k=1)[0]
    assert Path(best.path).name == "renamed.txt"


def _wait_for(condition: Callable[[], bool], engine: Engine, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached in {timeout} s; library: {_paths(engine)}")


def test_watch_commands(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    doc = docmaker.make_text(folder / "uniform.txt", "Staff wear navy scrubs on the cardiology ward.")
    os.utime(doc, (time.time() - 60, time.time() - 60))  # settled (ctime is fresh, see below)
    assert sanctum("library", "create", "Cardiology guidelines").returncode == 0
    time.sleep(2.1)  # the file's ctime must be older than the 2 s settle time
    added = sanctum("watch", "add", str(folder), "--library", "Cardiology guidelines")
    assert added.returncode == 0, added.stderr
    assert f"following  {folder}" in added.stdout and f"ingested   {doc}" in added.stdout
    listed = json.loads(sanctum("watch", "list", "--json").stdout)
    assert listed == [{"path": str(folder), "library": "Cardiology guidelines"}]
    # An unchanged rescan needs neither the embedding model nor the store: a missing model is fine.
    quiet = sanctum("--embedding-model", str(tmp_path / "no-such-model"), "rescan", "--json")
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["unchanged"] == 1
    doc.unlink()
    gone = json.loads(sanctum("rescan", "--json").stdout)
    assert gone["removed"] == [str(doc)]
    assert sanctum("watch", "remove", str(folder)).returncode == 0
    assert json.loads(sanctum("watch", "list", "--json").stdout) == []
    again = sanctum("watch", "remove", str(folder))
    assert again.returncode == 1 and "not followed" in again.stderr


def test_attachments_of_a_watched_mail_survive_a_rescan_and_go_with_it(eng: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    pdf = docmaker.pdf_bytes([["Cover"], ["The isolation room code is KESTREL-88."]])
    mail = docmaker.make_eml_with_attachments(folder / "infection.eml", "Isolation rooms", "See the attached plan.",
                                             [("plan.pdf", pdf)])
    watch, _ = _watcher(eng)
    watch.add(folder)
    watch.rescan()
    names = _paths(eng)
    assert names.get("infection.eml › plan.pdf") == "ready", names
    watch.rescan()  # the attachment exists only in the registry: it must not look deleted
    assert _paths(eng).get("infection.eml › plan.pdf") == "ready"
    mail.unlink()
    watch.rescan()
    assert _paths(eng) == {}
