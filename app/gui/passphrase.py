"""Asking for the passphrase that protects the data, when the computer has no keyring.

The engine asks for it from a worker thread (the first time encrypted data is opened). A dialog
can only be shown on the UI thread, so :class:`PassphraseBroker` posts the question there and
blocks the worker until the person answers (or cancels).
"""

from __future__ import annotations

import os
import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

ENV = "SANCTUM_PASSPHRASE"


class PassphraseDialog(QDialog):
    """Asks for the passphrase (twice when a new one is being chosen)."""

    def __init__(self, prompt: str, *, new: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unlock Sanctum" if not new else "Protect your Sanctum data")
        self.setAccessibleName(self.windowTitle())
        self.new = new
        layout = QVBoxLayout(self)
        text = QLabel(prompt + ("." if not prompt.endswith(".") else ""), self)
        text.setWordWrap(True)
        layout.addWidget(text)
        if new:
            note = QLabel("There is no way to recover it: keep it somewhere safe.", self)
            note.setWordWrap(True)
            layout.addWidget(note)
        self.field = QLineEdit(self)
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("Passphrase")
        self.field.setPlaceholderText("Passphrase")
        layout.addWidget(self.field)
        self.again = QLineEdit(self)
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.again.setAccessibleName("Passphrase again")
        self.again.setPlaceholderText("The same passphrase again")
        self.again.setVisible(new)
        layout.addWidget(self.again)
        self.error = QLabel("", self)
        self.error.setAccessibleName("Passphrase problem")
        self.error.setVisible(False)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Unlock" if not new else "Protect")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def _on_buttons_accepted(self) -> None:
        if not self.field.text():
            self._complain("Type the passphrase.")
        elif self.new and len(self.field.text()) < 8:
            self._complain("Choose at least 8 characters.")
        elif self.new and self.field.text() != self.again.text():
            self._complain("The two passphrases differ.")
        else:
            self.accept()

    def _complain(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
        self.field.setFocus()

    def passphrase(self) -> str:
        return self.field.text()


class PassphraseBroker(QObject):
    """The engine's passphrase provider, safe to call from any thread.

    Args:
        parent_widget: Returns the window the dialog belongs to (it may not exist yet).
    """

    sig_asked = Signal(str, bool)
    """Emitted (to the UI thread) with (prompt, new) when the engine needs the passphrase."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.parent_widget: QWidget | None = None
        self._answer: str | None = None
        self._answered = threading.Event()
        self._one_at_a_time = threading.Lock()
        self.sig_asked.connect(self._on_self_asked)

    def __call__(self, prompt: str, new: bool) -> str | None:
        value = os.environ.get(ENV)
        if value:
            return value
        if QThread.currentThread() is self.thread():
            return self._show(prompt, new)
        with self._one_at_a_time:
            self._answered.clear()
            self.sig_asked.emit(prompt, new)
            self._answered.wait()
            return self._answer

    @Slot(str, bool)
    def _on_self_asked(self, prompt: str, new: bool) -> None:
        try:
            self._answer = self._show(prompt, new)
        finally:
            self._answered.set()

    def _show(self, prompt: str, new: bool) -> str | None:
        dialog = PassphraseDialog(prompt, new=new, parent=self.parent_widget)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        return dialog.passphrase() if accepted else None
