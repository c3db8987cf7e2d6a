"""Turns library actions (drop, add, remove, cancel) into calls on the ingest service."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from app.core.engine import Engine
from app.core.ingest.service import FileOutcome, IngestProgress
from app.core.values import Document
from app.gui.library.library_panel import LibraryPanel
from app.gui.library.password import DocumentPasswordBroker
from app.gui.library.workers import IngestWorker
from app.gui.tasks import Lanes, user_message


class LibraryController(QObject):
    """Owns the batch being read and keeps the library panel in step with the library."""

    sig_documents = Signal(list)
    """Emitted with the saved documents (list of Document) whenever they were read again."""

    sig_message = Signal(str)
    """Emitted with a short note for the status bar."""

    sig_batch_finished = Signal(dict)
    """Emitted with a batch's summary when it ends."""

    def __init__(self, engine: Engine, lanes: Lanes, panel: LibraryPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.lanes, self.panel = engine, lanes, panel
        self.worker: IngestWorker | None = None
        self._waiting: list[Path] = []  # dropped while a batch runs: read next
        # Asks for passwords of encrypted files on the UI thread; its parent is the dialogs' window.
        self.passwords = DocumentPasswordBroker(parent if isinstance(parent, QWidget) else None)
        panel.sig_cancel.connect(self.cancel)
        panel.sig_remove.connect(self.remove)

    def refresh(self) -> None:
        self.lanes.run(self.lanes.io, lambda: self.engine.document_service().all(), self._on_library_read,
                       self._on_library_failed)

    def _on_library_read(self, docs: list[Document]) -> None:
        self.panel.model.set_documents(docs)
        self.panel.set_opened()
        self.sig_documents.emit(docs)

    def _on_library_failed(self, error: BaseException) -> None:
        message = user_message(error)
        if self.panel.opening:
            self.panel.set_opened(error=message)
        self.sig_message.emit(f"The library could not be read: {message}")

    # -- adding -----------------------------------------------------------------------------

    def add(self, paths: list[Path]) -> None:
        """Read files and folders; a batch already running is followed by this one."""
        if not paths:
            return
        if self.worker is not None:
            self._waiting += paths
            self.sig_message.emit(f"{len(paths)} more item(s) will be read after the current ones.")
            return
        self.passwords.reset()
        worker = IngestWorker(service=self.engine.ingest_service, paths=paths, password_for=self.passwords)
        s = worker.signals
        s.sig_queued.connect(self._on_worker_queued)
        s.sig_progress.connect(self._on_worker_progress)
        s.sig_file.connect(self._on_worker_file)
        s.sig_finished.connect(self._on_worker_finished)
        self.worker = worker
        self.panel.begin_batch()
        self.lanes.start(self.lanes.ingest, worker)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.passwords.cancel()
            self._waiting = []
            self.panel.set_cancelling()

    @Slot(list)
    def _on_worker_queued(self, paths: list[str]) -> None:
        self.panel.model.mark_queued(paths)

    @Slot(object)
    def _on_worker_progress(self, p: IngestProgress) -> None:
        self.panel.model.apply_progress(p)
        self.panel.show_progress(p)

    @Slot(object)
    def _on_worker_file(self, outcome: FileOutcome) -> None:
        self.panel.model.apply_outcome(outcome)

    @Slot(dict)
    def _on_worker_finished(self, summary: dict) -> None:
        self.worker = None
        self.panel.model.drop_queued()
        self.sig_message.emit(self.panel.end_batch(summary))
        self.sig_batch_finished.emit(summary)
        self.refresh()
        if self._waiting:
            waiting, self._waiting = self._waiting, []
            self.add(waiting)

    # -- removing ---------------------------------------------------------------------------

    def remove(self, paths: list[str]) -> None:
        """Remove documents (after the batch being read, in the same lane: never mid-write)."""

        def work() -> int:
            documents = self.engine.document_service()
            removed = 0
            for p in paths:  # a failed file is in the library too (removed the same way); a skipped one only on screen
                if documents.remove(p) is not None:
                    removed += 1
            return removed

        def done(n: int) -> None:
            self.sig_message.emit(f"{n} document{'s' if n != 1 else ''} removed from the library.")
            self.panel.model.set_documents([])  # cleared first so skipped rows go too
            self.refresh()

        self.lanes.run(self.lanes.ingest, work, done,
                       lambda e: self.sig_message.emit(f"Could not remove: {user_message(e)}"))
