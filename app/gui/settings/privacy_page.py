"""The Privacy tab of the settings: audit log, app lock, and wiping all data."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.config import Settings
from app.core.privacy.service import AuditCheck
from app.gui import theme
from app.gui.privacy.controller import PrivacyController, describe_check
from app.gui.privacy.dialogs import AppLockDialog
from app.gui.tasks import user_message


def _note(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    theme.set_muted(label)
    return label


class PrivacyPage(QWidget):
    """Privacy settings and actions. The audit option is saved with the dialog's Save; the app
    lock, the audit check and the wipe act at once (each asks first)."""

    sig_wipe_requested = Signal()
    """Emitted when the user asked to wipe all data (the window confirms and does it)."""

    def __init__(self, settings: Settings, privacy: PrivacyController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.privacy = privacy
        layout = QVBoxLayout(self)

        audit = QGroupBox("Audit log", self)
        box = QVBoxLayout(audit)
        self.full_questions = QCheckBox("Log questions in full in the audit log", audit)
        self.full_questions.setChecked(settings.audit_full_questions)
        box.addWidget(self.full_questions)
        box.addWidget(_note("When off, the log keeps only a fingerprint of each question, which shows that a "
                            "given question was asked without storing its words. The log is encrypted either way.",
                            audit))
        row = QHBoxLayout()
        self.verify_button = QPushButton("Verify audit log", audit)
        self.verify_button.clicked.connect(self._on_verify_clicked)
        row.addWidget(self.verify_button)
        row.addStretch(1)
        box.addLayout(row)
        self.verify_result = QLabel("", audit)
        self.verify_result.setAccessibleName("Audit log check")
        self.verify_result.setWordWrap(True)
        self.verify_result.setVisible(False)
        box.addWidget(self.verify_result)
        layout.addWidget(audit)

        lock = QGroupBox("App lock", self)
        box = QVBoxLayout(lock)
        box.addWidget(_note("For shared workstations: a passphrase asked when Sanctum starts and after a time "
                            "without use. It hides the window; your data is encrypted either way.", lock))
        self.lock_state = QLabel("", lock)
        self.lock_state.setAccessibleName("App lock state")
        self.lock_state.setWordWrap(True)
        box.addWidget(self.lock_state)
        row = QHBoxLayout()
        self.lock_on = QPushButton("Turn on…", lock)
        self.lock_change = QPushButton("Change…", lock)
        self.lock_off = QPushButton("Turn off…", lock)
        self.lock_on.clicked.connect(lambda: self._on_lock_clicked("on"))
        self.lock_change.clicked.connect(lambda: self._on_lock_clicked("change"))
        self.lock_off.clicked.connect(lambda: self._on_lock_clicked("off"))
        for b in (self.lock_on, self.lock_change, self.lock_off):
            row.addWidget(b)
        row.addStretch(1)
        box.addLayout(row)
        self.lock_message = QLabel("", lock)
        self.lock_message.setAccessibleName("App lock result")
        self.lock_message.setWordWrap(True)
        self.lock_message.setVisible(False)
        box.addWidget(self.lock_message)
        layout.addWidget(lock)

        wipe = QGroupBox("Delete everything", self)
        box = QVBoxLayout(wipe)
        box.addWidget(_note("Deletes the document index, conversations, audit log, app lock and the encryption "
                            "key. Your original files stay where they are.", wipe))
        row = QHBoxLayout()
        self.wipe_button = QPushButton("Wipe all data…", wipe)
        self.wipe_button.setAccessibleName("Wipe all Sanctum data")
        self.wipe_button.clicked.connect(self.sig_wipe_requested)
        row.addWidget(self.wipe_button)
        row.addStretch(1)
        box.addLayout(row)
        layout.addWidget(wipe)
        layout.addStretch(1)
        self.refresh_lock()

    def refresh_lock(self) -> None:
        on = self.privacy.lock_enabled()
        minutes = self.privacy.idle_minutes()
        self.lock_state.setText(f"<b>On</b>: Sanctum locks on start and after {minutes} minutes without use."
                                if on and minutes else "<b>On</b>." if on else "The app lock is <b>off</b>.")
        self.lock_on.setVisible(not on)
        self.lock_change.setVisible(on)
        self.lock_off.setVisible(on)

    def _say(self, label: QLabel, text: str, *, ok: bool) -> None:
        color = theme.ok_color() if ok else theme.error_color()
        label.setText(f"<span style='color:{color}'>{html.escape(text)}</span>")
        label.setVisible(True)

    def _on_verify_clicked(self) -> None:
        self.verify_button.setEnabled(False)
        self.verify_result.setText("Checking…")
        self.verify_result.setVisible(True)

        def done(check: AuditCheck) -> None:
            self.verify_button.setEnabled(True)
            self._say(self.verify_result, describe_check(check), ok=check.ok)

        def failed(error: BaseException) -> None:
            self.verify_button.setEnabled(True)
            self._say(self.verify_result, f"The audit log could not be checked: {user_message(error)}", ok=False)

        self.privacy.verify_audit(done, failed)

    def lock_dialog(self, mode: str) -> AppLockDialog:
        return AppLockDialog(mode, idle_minutes=self.privacy.idle_minutes() or 10, parent=self)

    def _on_lock_clicked(self, mode: str) -> None:
        dialog = self.lock_dialog(mode)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.apply_lock_dialog(dialog)

    def apply_lock_dialog(self, dialog: AppLockDialog) -> None:
        """Do what an accepted app-lock dialog asks (in the io lane); the result shows under the buttons."""
        self.lock_message.setText("Saving…")
        self.lock_message.setVisible(True)

        def done(text: str) -> None:
            self.refresh_lock()
            self._say(self.lock_message, text, ok=True)

        def failed(error: BaseException) -> None:
            message = user_message(error)
            self.refresh_lock()
            self._say(self.lock_message, message[:1].upper() + message[1:], ok=False)

        if dialog.mode == "off":
            self.privacy.clear_lock(dialog.current.text(), done, failed)
        else:
            self.privacy.set_lock(dialog.new.text(), dialog.minutes.value(),
                                  dialog.current.text() if dialog.mode == "change" else None, done, failed)
