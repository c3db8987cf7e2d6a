"""Asking for the password of an encrypted document while the ingest lane reads it.

The ingest service calls ``password_for(path)`` on its worker thread (see
:meth:`app.core.ingest.service.IngestService.ingest`). A dialog can only be shown on the UI thread, so
:class:`DocumentPasswordBroker` posts the question there and blocks the worker until the person
answers, the same way :mod:`app.gui.passphrase` asks for the data passphrase. The core asks again
after a wrong password (up to its own limit); the dialog then says the last one was wrong.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.gui import theme


class DocumentPasswordDialog(QDialog):
    """"This file is password-protected": a masked field, Open, and Skip this file."""

    def __init__(self, path: Path, *, wrong: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Password needed")
        self.setAccessibleName("Password for a protected document")
        layout = QVBoxLayout(self)
        self.title = QLabel(f"<b>{html.escape(path.name)}</b> is password-protected.", self)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        hint = QLabel("Type its password to add it to your library. The password is used only to read the "
                      "file now; it is not saved.", self)
        hint.setWordWrap(True)
        theme.set_muted(hint)
        layout.addWidget(hint)
        self.field = QLineEdit(self)
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName(f"Password for {path.name}")
        self.field.setPlaceholderText("Password")
        layout.addWidget(self.field)
        self.error = QLabel(f"<span style='color:{theme.error_color()}'>That password did not open the file. "
                            "Try again, or skip this file.</span>", self)
        self.error.setAccessibleName("Password problem")
        self.error.setWordWrap(True)
        self.error.setVisible(wrong)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(self)
        self.open_button = buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.skip_button = buttons.addButton("Skip this file", QDialogButtonBox.ButtonRole.RejectRole)
        self.open_button.setDefault(True)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 56)
        self.field.setFocus()

    def _on_buttons_accepted(self) -> None:
        if self.field.text():
            self.accept()
        else:
            self.field.setFocus()

    def password(self) -> str:
        return self.field.text()


class DocumentPasswordBroker(QObject):
    """The ingest service's ``password_for``, safe to call from the ingest worker.

    Args:
        parent: Also the dialog's parent window when it is a widget.
    """

    sig_asked = Signal(str, bool)
    """Emitted (to the UI thread) with (file path, last password was wrong)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._answer: str | None = None
        self._answered = threading.Event()
        self._last: Path | None = None
        self._cancelled = False
        self.sig_asked.connect(self._on_self_asked)

    def __call__(self, path: Path) -> str | None:
        # The core asks for the same file again only when the password it was given was wrong.
        wrong, self._last = self._last == path, path
        if self._cancelled:
            return None
        if QThread.currentThread() is self.thread():
            return self._show(path, wrong)
        self._answered.clear()
        self.sig_asked.emit(str(path), wrong)
        self._answered.wait()
        return self._answer

    def reset(self) -> None:
        """Forget the last file asked about (a new batch starts)."""
        self._last = None
        self._cancelled = False

    def cancel(self) -> None:
        """Answer "skip" to a question waiting now and to any later one (the window is closing)."""
        self._cancelled = True
        self._answer = None
        self._answered.set()

    @Slot(str, bool)
    def _on_self_asked(self, path: str, wrong: bool) -> None:
        try:
            self._answer = self._show(Path(path), wrong)
        finally:
            self._answered.set()

    def _show(self, path: Path, wrong: bool) -> str | None:
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        dialog = DocumentPasswordDialog(path, wrong=wrong, parent=parent)  # type: ignore[arg-type]
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        return dialog.password() if accepted else None
