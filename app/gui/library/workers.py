"""The ingestion lane's worker: reads and indexes files, reporting each file and the overall progress."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal, Slot

from app.core.errors import Cancelled
from app.core.ingest.service import FAILED, INGESTED, UNCHANGED, FileOutcome, IngestProgress, IngestService


class IngestSignals(QObject):
    sig_queued = Signal(list)
    """Emitted with the files (str paths) about to be read."""

    sig_progress = Signal(object)
    """Emitted with an IngestProgress as work advances."""

    sig_file = Signal(object)
    """Emitted with each file's FileOutcome as soon as it is known."""

    sig_finished = Signal(dict)
    """Emitted once, always: {"ingested", "unchanged", "failed", "cancelled", "error"}; "error" is the
    exception that stopped the batch, or None."""


class IngestWorker(QRunnable):
    """Adds files and folders to the library.

    Args:
        service: Returns the ingest service (called on the worker: it may load the embedder).
        paths: Files and folders.
        password_for: Asks for the password of an encrypted file (None: such files are skipped).
    """

    def __init__(self, *, service: Callable[[], IngestService], paths: Sequence[Path],
                 password_for: Callable[[Path], str | None] | None = None) -> None:
        super().__init__()
        self.signals = IngestSignals()
        self._service = service
        self.paths = list(paths)
        self.password_for = password_for
        self._stop = threading.Event()

    def stop(self) -> None:
        """Stop after the file in hand (files already read stay in the library)."""
        self._stop.set()

    @Slot()
    def run(self) -> None:
        counts = {INGESTED: 0, UNCHANGED: 0, FAILED: 0}
        summary: dict[str, object] = {"cancelled": False, "error": None}

        def on_file(outcome: FileOutcome) -> None:
            if outcome.status in counts:
                counts[outcome.status] += 1
            self.signals.sig_file.emit(outcome)

        def on_progress(p: IngestProgress) -> None:
            self.signals.sig_progress.emit(p)

        try:
            service = self._service()
            files, _ = service.expand(self.paths)
            self.signals.sig_queued.emit([str(f) for f in files])
            service.ingest(self.paths, on_file=on_file, progress=on_progress, cancelled=self._stop.is_set,
                           password_for=self.password_for)
        except Cancelled:
            summary["cancelled"] = True
        except BaseException as exc:  # noqa: BLE001 - handed to the UI thread in the summary
            summary["error"] = exc
        finally:
            summary.update({"ingested": counts[INGESTED], "unchanged": counts[UNCHANGED], "failed": counts[FAILED]})
            self.signals.sig_finished.emit(summary)
