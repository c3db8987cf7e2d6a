"""Followed folders: a library keeps itself in step with folders on disk.

A pass (:meth:`WatchService.rescan`) compares each followed folder with the registry by ``stat``
alone (size and mtime), so an unchanged folder of thousands of files costs about what walking it
costs: no file is opened, nothing is hashed, and the embedding model and the store are not even
loaded (the ingest service is asked for only when there is work). New and changed files are then
ingested, deleted ones removed; a rename is a removal plus a new file.

A file whose mtime or ctime is younger than ``settle_s`` is deferred to a later pass: it may still
be being copied, and half a file must never be read. (ctime catches copies that restore the old
mtime, such as ``cp -p``: setting the mtime updates the ctime.)

:meth:`WatchService.run` follows the folders until stopped: a pass on start (catching up on what
changed while Sanctum was not running), a pass shortly after file-system events (watchdog:
inotify, FSEvents, ReadDirectoryChangesW), a retry when files were deferred, and a full pass every
``rescan_every_s`` as a safety net for events the platform drops. Everything is plain callables;
the GUI adapts them to signals.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import Cancelled, SanctumError
from app.core.ingest.parsers import SUPPORTED_SUFFIXES
from app.core.ingest.parsers.base import NESTED_SEPARATOR
from app.core.storage.registry import FAILED, READY, Library
from app.core.values import DEFAULT_LIBRARY, WatchedFolder

if TYPE_CHECKING:
    from app.core.ingest.service import FileOutcome, IngestService

# Events that only say a file was read (our own parser reads them): never a reason for a pass.
_READ_ONLY_EVENTS = frozenset({"opened", "closed_no_write"})


@dataclass
class FolderPlan:
    """What one pass must do for one followed folder.

    Attributes:
        folder: The followed folder.
        ingest: New files and files whose size or mtime changed.
        remove: Registered files that are gone from disk.
        deferred: Files changed in the last ``settle_s`` seconds (maybe still being written).
        unchanged: How many files match the registry.
        unavailable: Why the folder could not be read (then nothing is removed), or None.
    """

    folder: WatchedFolder
    ingest: list[Path] = field(default_factory=list)
    remove: list[Path] = field(default_factory=list)
    deferred: list[Path] = field(default_factory=list)
    unchanged: int = 0
    unavailable: str | None = None


@dataclass
class RescanResult:
    """What a pass did.

    Attributes:
        outcomes: One per file that was ingested or failed (unchanged files are only counted).
        removed: Files removed from the library because they are gone.
        deferred: Files left for a later pass because they are still changing.
        unchanged: Files that needed no work.
        unavailable: Followed folders that could not be read, with the reason.
        seconds: Wall time of the pass.
    """

    outcomes: list[FileOutcome] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    deferred: list[Path] = field(default_factory=list)
    unchanged: int = 0
    unavailable: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.outcomes or self.removed)


class WatchService:
    """Keeps libraries in step with the folders they follow.

    Args:
        library: The registry (it stores which folders are followed).
        ingest: Gives the ingest service; called only when a pass has work, so a pass over
            unchanged folders never loads the embedding model.
        settle_s: A file changed more recently than this is deferred.
        rescan_every_s: Full pass interval of :meth:`run`.
        clock: Wall-clock time (tests use the real one; files' mtimes are wall-clock).
    """

    def __init__(
        self,
        *,
        library: Library,
        ingest: Callable[[], IngestService],
        settle_s: float = 2.0,
        rescan_every_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.library = library
        self._ingest_provider = ingest
        self._ingest: IngestService | None = None
        self.settle_s = settle_s
        self.rescan_every_s = rescan_every_s
        self._clock = clock

    # -- which folders -------------------------------------------------------------------------

    def add(self, folder: Path, *, library: str | None = None) -> WatchedFolder:
        """Follow ``folder`` (its files go to ``library``, by default the default library)."""
        path = Path(folder).expanduser().resolve()
        if not path.is_dir():
            raise SanctumError(f"{path} is not a folder" if path.exists() else f"{path}: no such folder")
        return self.library.add_watched(path, library or DEFAULT_LIBRARY)

    def remove(self, folder: Path, *, forget_documents: bool = False) -> bool:
        """Stop following ``folder``; with ``forget_documents`` its files leave the library too."""
        path = Path(folder).expanduser().resolve()
        known = self.library.remove_watched(path)
        if known and forget_documents:
            paths = list(self.library.under(path))
            if paths:
                service = self._service()
                for doc_path in paths:
                    service.remove(Path(doc_path))
        return known

    def folders(self) -> list[WatchedFolder]:
        return self.library.watched()

    # -- one pass ------------------------------------------------------------------------------

    def plan(self, folder: WatchedFolder, *, others: Iterable[Path] = ()) -> FolderPlan:
        """Compare ``folder`` with the registry (stat only). Folders in ``others`` nested inside
        it are left to their own entry."""
        plan = FolderPlan(folder)
        root = folder.path
        nested = {p for p in others if p != root and _is_within(p, root)}
        if not root.is_dir():
            plan.unavailable = "the folder is missing (moved, deleted, or its drive is not connected)"
            return plan
        known = self.library.under(root)
        now = self._clock()
        seen: set[str] = set()
        unreadable: list[str] = []
        stack = [str(root)]
        while stack:
            current = stack.pop()
            try:
                entries = list(os.scandir(current))
            except OSError:
                unreadable.append(current)
                continue
            for entry in entries:
                name = entry.name
                if name.startswith((".", "~$")):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if Path(entry.path) not in nested:
                            stack.append(entry.path)
                        continue
                    if os.path.splitext(name)[1].lower() not in SUPPORTED_SUFFIXES or not entry.is_file():
                        continue
                    st = entry.stat()
                except OSError:
                    continue  # vanished while we looked: the next pass sees it gone
                key = entry.path
                if entry.is_symlink():  # ingestion records a linked file under its target's path
                    key = os.path.realpath(entry.path)
                    if key not in known and (doc := self.library.get(Path(key))):
                        known[key] = (doc.size, doc.mtime_ns, doc.status)
                seen.add(key)
                record = known.get(key)
                if record and record[2] in (READY, FAILED) and record[0] == st.st_size and record[1] == st.st_mtime_ns:
                    plan.unchanged += 1
                elif now - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 < self.settle_s:
                    plan.deferred.append(Path(entry.path))
                else:
                    plan.ingest.append(Path(entry.path))
        skip = [str(p) for p in nested] + unreadable
        for path in known:
            if path in seen or any(_is_within(Path(path), Path(s)) for s in skip):
                continue
            if NESTED_SEPARATOR in path:
                continue  # an attachment or archive member: it goes when its container goes
            if not os.path.lexists(path) and not _inside_a_file(Path(path), root):
                plan.remove.append(Path(path))
        plan.ingest.sort()
        plan.remove.sort()
        return plan

    def rescan(
        self,
        folders: Iterable[WatchedFolder] | None = None,
        *,
        on_file: Callable[[FileOutcome], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> RescanResult:
        """One pass over ``folders`` (default: all followed folders)."""
        started = time.perf_counter()
        every = self.folders()
        chosen = every if folders is None else list(folders)
        result = RescanResult()
        for folder in chosen:
            plan = self.plan(folder, others=[f.path for f in every])
            result.unchanged += plan.unchanged
            result.deferred += plan.deferred
            if plan.unavailable:
                result.unavailable.append((folder.path, plan.unavailable))
                continue
            if plan.remove or plan.ingest:
                service = self._service()
                for path in plan.remove:
                    if cancelled and cancelled():
                        raise Cancelled("cancelled")
                    if service.remove(path):
                        result.removed.append(path)
                if plan.ingest:
                    result.outcomes += service.ingest(
                        plan.ingest, library=folder.library, on_file=on_file, cancelled=cancelled
                    )
        result.seconds = time.perf_counter() - started
        return result

    def _service(self) -> IngestService:
        if self._ingest is None:
            self._ingest = self._ingest_provider()
        return self._ingest

    # -- following -----------------------------------------------------------------------------

    def run(
        self,
        *,
        stop: threading.Event,
        on_file: Callable[[FileOutcome], None] | None = None,
        on_pass: Callable[[RescanResult], None] | None = None,
        on_error: Callable[[SanctumError], None] | None = None,
        debounce_s: float = 0.5,
        poll_s: float = 5.0,
    ) -> None:
        """Follow every followed folder until ``stop`` is set (see the module docstring).

        Args:
            stop: Set it (from any thread) to return after the current step.
            on_file: Each ingested or failed file's outcome.
            on_pass: Each pass's result.
            on_error: A pass that failed (e.g. the store cannot be opened); without it the error
                is raised and following ends.
            debounce_s: Quiet time after an event before a pass (a copy of many files is one pass).
            poll_s: How often the list of followed folders is re-read (another process may add
                one) when nothing happens.
        """
        from watchdog.observers import Observer

        wake = threading.Event()
        dirty: set[Path] = set()
        lock = threading.Lock()
        observer = Observer()
        scheduled: dict[Path, object] = {}
        observer.start()
        try:
            pending_all = True  # the first pass catches up with what changed while we were away
            next_full = self._clock() + self.rescan_every_s
            retry_at: float | None = None
            while not stop.is_set():
                folders = {f.path: f for f in self.folders()}
                for path in list(scheduled):
                    if path not in folders:
                        observer.unschedule(scheduled.pop(path))
                for path in folders:
                    if path not in scheduled and path.is_dir():
                        handler = _Handler(path, dirty, wake, lock)
                        scheduled[path] = observer.schedule(handler, str(path), recursive=True)
                        with lock:
                            dirty.add(path)  # newly followed (or back again): scan it now
                now = self._clock()
                with lock:
                    if pending_all or now >= next_full or (retry_at is not None and now >= retry_at):
                        targets = list(folders.values())
                        next_full, retry_at, pending_all = now + self.rescan_every_s, None, False
                    else:
                        targets = [folders[p] for p in dirty if p in folders]
                    dirty.clear()
                    wake.clear()
                if targets:
                    try:
                        result = self.rescan(targets, on_file=on_file, cancelled=stop.is_set)
                    except Cancelled:
                        return
                    except SanctumError as exc:
                        if on_error is None:
                            raise
                        on_error(exc)
                        result = RescanResult()
                    if result.deferred:
                        retry_at = self._clock() + self.settle_s
                    if on_pass:
                        on_pass(result)
                    continue
                deadline = min(next_full, retry_at or next_full, self._clock() + poll_s)
                if wake.wait(max(0.0, deadline - self._clock())) and not stop.is_set():
                    _quiet(wake, debounce_s)
        finally:
            observer.stop()
            observer.join(timeout=5)


def _quiet(wake: threading.Event, debounce_s: float, longest_s: float = 10.0) -> None:
    """Wait until events stop for ``debounce_s`` (at most ``longest_s``): one pass per burst."""
    end = time.monotonic() + longest_s
    while time.monotonic() < end:
        wake.clear()
        if not wake.wait(debounce_s):
            break
    wake.set()


class _Handler:
    """watchdog handler: note which followed folder saw a change, and wake the loop."""

    def __init__(self, root: Path, dirty: set[Path], wake: threading.Event, lock: threading.Lock) -> None:
        self.root, self.dirty, self.wake, self.lock = root, dirty, wake, lock

    def dispatch(self, event: object) -> None:
        if getattr(event, "event_type", "") in _READ_ONLY_EVENTS:
            return
        with self.lock:
            self.dirty.add(self.root)
        self.wake.set()


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _inside_a_file(path: Path, root: Path) -> bool:
    """True when a parent of ``path`` (below ``root``) is a file: a document taken out of a
    container (an archive, a mail's attachment) that exists only in the registry."""
    for parent in path.parents:
        if parent == root or root not in parent.parents:
            return False
        if parent.is_file():
            return True
    return False
