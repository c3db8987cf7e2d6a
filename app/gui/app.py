"""The desktop window (a first version: status of the model and library, and how to add documents).

The window shows at once; checking the model file (a SHA-256 of half a gigabyte on first run)
happens on a worker thread and the result is posted back to the UI thread by a signal.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QVBoxLayout, QWidget

from app import __version__


class _StatusWorker(QObject):
    """Reads the model header and library size off the UI thread."""

    sig_ready = Signal(str, str)
    """Emitted with (model description, library description)."""

    sig_failed = Signal(str)
    """Emitted with a user-facing error message."""

    def start(self) -> None:
        threading.Thread(target=self._run, name="sanctum-status", daemon=True).start()

    def _run(self) -> None:
        from app.core.engine import Engine
        from app.core.errors import SanctumError
        from app.core.gguf_info import read_gguf_info

        try:
            with Engine() as engine:
                info = read_gguf_info(engine.chat_model_path())
                docs = [d for d in engine.library.all() if d.status == "ready"]
            model = f"{info.name} · {info.quantization or 'GGUF'} · {info.size_bytes / 1e6:,.0f} MB"
            library = f"{len(docs)} document{'s' if len(docs) != 1 else ''} in your library"
            self.sig_ready.emit(model, library)
        except SanctumError as exc:
            self.sig_failed.emit(str(exc))
        except Exception as exc:  # the window must say something, whatever happened
            self.sig_failed.emit(f"unexpected error: {exc}")


class MainWindow(QMainWindow):
    """The main window."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Sanctum")
        self.resize(880, 560)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(48, 40, 48, 40)
        layout.setSpacing(14)
        title = QLabel("<h1>Sanctum</h1>", body)
        offline = QLabel("● Offline — nothing leaves this computer", body)
        offline.setAccessibleName("Offline status")
        offline.setStyleSheet("color: #1b7f3b; font-weight: 600;")
        self.model_label = QLabel("Checking the chat model…", body)
        self.model_label.setAccessibleName("Chat model")
        self.library_label = QLabel("", body)
        self.library_label.setAccessibleName("Library")
        hint = QLabel(
            "Add documents and ask questions from the command line while the chat window is being "
            "finished:<br><code>sanctum ingest FOLDER</code> &nbsp; then &nbsp; "
            "<code>sanctum ask \"your question\"</code>",
            body,
        )
        hint.setWordWrap(True)
        hint.setTextFormat(Qt.TextFormat.RichText)
        for widget in (title, offline, self.model_label, self.library_label, hint):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.setCentralWidget(body)
        self.statusBar().showMessage(f"Sanctum {__version__}")
        self._worker = _StatusWorker(self)
        self._worker.sig_ready.connect(self._on_status_ready)
        self._worker.sig_failed.connect(self._on_status_failed)

    def start(self) -> None:
        self._worker.start()

    def _on_status_ready(self, model: str, library: str) -> None:
        self.model_label.setText(f"Chat model: {model}")
        self.library_label.setText(library)

    def _on_status_failed(self, message: str) -> None:
        self.model_label.setText(f"<span style='color:#b00020'>Problem: {message}</span>")


def run(*, quit_after: float | None = None, screenshot: Path | None = None) -> int:
    """Show the main window and run the event loop until it closes."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Sanctum")
    window = MainWindow()
    window.show()
    window.start()
    if quit_after is not None:

        def finish() -> None:
            if screenshot is not None:
                window.grab().save(str(screenshot), "PNG")
            app.quit()

        QTimer.singleShot(int(quit_after * 1000), finish)
    return int(app.exec())
