"""What the main window shows: its content, the lock screen, or a notice (data cannot be opened, wiped).

Kept apart from the window's layout code: this decides when the content may be seen and drives
the app lock (on start and after idle time), opening the data folder, and wiping it.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QDialog

from app.core.errors import ConfigError, DataLocked, PassphraseRequired
from app.core.privacy.service import AuditCheck, TooManyAttempts
from app.gui.privacy.dialogs import WipeDialog
from app.gui.tasks import user_message

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QStackedWidget, QStatusBar, QWidget

    from app.core.engine import Engine
    from app.gui.chat.chat_panel import ChatPanel
    from app.gui.chat.controller import ChatController
    from app.gui.library.controller import LibraryController
    from app.gui.privacy.controller import PrivacyController
    from app.gui.privacy.idle import IdleWatcher
    from app.gui.privacy.screens import LockScreen, NoticeScreen
    from app.gui.tasks import Lanes

log = logging.getLogger(__name__)


class StatesHost(Protocol):
    """What WindowStates needs of the window that holds it (the main window provides it); named
    here so that this module does not import the main window, which imports it."""

    engine: Engine
    lanes: Lanes
    stack: QStackedWidget
    splitter: QWidget
    lock_screen: LockScreen
    notice: NoticeScreen
    overlay: QWidget
    privacy: PrivacyController
    idle: IdleWatcher
    chat: ChatPanel
    chats: ChatController
    docs: LibraryController
    content_actions: list[QAction]
    audit_label: QLabel

    def statusBar(self) -> QStatusBar: ...  # Qt's name

    def close(self) -> bool: ...

    def load_content(self) -> None: ...

    def load_embedder(self) -> None: ...


class WindowStates(QObject):
    """Switches the window between content, lock screen and notices.

    Args:
        window: The main window (its ``stack`` holds the pages).
    """

    def __init__(self, window: StatesHost) -> None:
        super().__init__(window)  # type: ignore[call-overload]  # the host is a QMainWindow (a QObject)
        self.w = window
        self.locked = False
        self.blocked = False  # the data folder could not be opened
        self.data_pending = False  # the data opens with the lock passphrase, once it is typed
        self.wiped = False
        window.lock_screen.sig_unlock.connect(self._on_lock_screen_unlock)
        window.idle.sig_idle.connect(self.lock)
        window.privacy.sig_lock_changed.connect(self._on_privacy_lock_changed)

    def showing_content(self) -> bool:
        return self.w.stack.currentWidget() is self.w.splitter

    def start(self) -> None:
        """Lock at once when the app lock is on, then watch for idle time."""
        if self.w.privacy.lock_enabled():
            self.lock()
        self.w.idle.watch(self.w.privacy.idle_minutes())

    # -- the lock ---------------------------------------------------------------------------

    def lock(self) -> None:
        """Hide everything behind the lock screen (a generation in progress goes on underneath)."""
        if self.locked or self.wiped or not self.w.privacy.lock_enabled():
            return
        self.locked = True
        self._close_dialogs()
        self.w.statusBar().clearMessage()  # it may name a file or a conversation
        self.w.overlay.hide()
        self.w.stack.setCurrentWidget(self.w.lock_screen)
        self._enable_actions(False)
        self.w.lock_screen.reset()

    def _on_lock_screen_unlock(self, passphrase: str) -> None:
        self.w.privacy.unlock(passphrase, self._on_unlock_checked, self._on_unlock_failed)

    def _on_unlock_failed(self, error: BaseException) -> None:
        message = user_message(error)
        if isinstance(error, TooManyAttempts):
            self.w.lock_screen.refuse(message[:1].upper() + message[1:] + ".")
        else:
            self.w.lock_screen.refuse(f"The passphrase could not be checked: {message}")

    def _on_unlock_checked(self, ok: bool) -> None:
        if not ok:
            self.w.lock_screen.refuse("Wrong passphrase. Try again.")
            return
        self.locked = False
        self.w.lock_screen.reset()
        self.w.idle.reset()
        if self.data_pending:  # the passphrase opened the data: read it now
            self.data_pending = False
            self.open_data()
            self.w.load_embedder()
            self.w.idle.watch(self.w.privacy.idle_minutes())  # now checked against its MAC
        if not self.blocked:
            self.w.stack.setCurrentWidget(self.w.splitter)
            self._enable_actions(True)
            self.w.chat.input.setFocus()
        else:
            self.w.stack.setCurrentWidget(self.w.notice)

    def _on_privacy_lock_changed(self) -> None:
        self.w.idle.watch(self.w.privacy.idle_minutes())

    def _enable_actions(self, on: bool) -> None:
        for action in self.w.content_actions:
            action.setEnabled(on)

    def _close_dialogs(self) -> None:
        """Close dialogs that show content (settings, export …); questions the work waits on stay."""
        from app.gui.library.password import DocumentPasswordDialog
        from app.gui.passphrase import PassphraseDialog

        for widget in QApplication.topLevelWidgets():
            if (isinstance(widget, QDialog) and widget.isVisible() and widget.parent() is not None
                    and not isinstance(widget, PassphraseDialog | DocumentPasswordDialog)):
                widget.reject()

    # -- opening the data -------------------------------------------------------------------

    def open_data(self) -> None:
        """Open the key, the library and the conversations in the io lane; then load the content.
        With the app lock on, only its passphrase opens the key: this waits for the lock screen."""
        if self.w.engine.needs_unlock():
            self.data_pending = True
            return

        def work() -> None:
            _ = self.w.engine.library
            self.w.engine.conversation_service().open()

        self.w.lanes.run(self.w.lanes.io, work, self._on_data_opened, self._on_data_failed)

    def _on_data_opened(self, _: None) -> None:
        if self.blocked:
            self.blocked = False
            if not self.locked:
                self.w.stack.setCurrentWidget(self.w.splitter)
                self._enable_actions(True)
        self.w.load_content()
        self.w.lanes.run(self.w.lanes.io, self.w.engine.audit.check_anchor, self._on_audit_checked,
                         lambda error: log.warning("the audit log could not be checked: %s", user_message(error)))

    def _on_audit_checked(self, broken: AuditCheck | None) -> None:
        """Warn, for as long as the window is open, when the audit log was deleted or rolled back."""
        if broken is None or not broken.problem:
            return
        from PySide6.QtWidgets import QMessageBox

        from app.gui import theme

        problem = broken.problem[:1].upper() + broken.problem[1:]
        label = self.w.audit_label
        label.setText("⚠ Audit log deleted or rolled back")
        label.setStyleSheet(f"color: {theme.error_color()}; font-weight: bold")
        label.setToolTip(f"{problem}. See Settings › Privacy › Verify audit log.")
        label.show()
        box = QMessageBox(QMessageBox.Icon.Warning, "The audit log was tampered with",
                          "Sanctum's audit log is not the one it wrote.", parent=self.w)  # type: ignore[call-overload]
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(f"{problem}.\n\nThe records that were removed cannot be brought back from here. "
                               "If you keep exported copies of the audit log, compare them. Tell whoever looks "
                               "after privacy on this computer.")
        box.setObjectName("audit_warning")
        box.open()  # not blocking: Sanctum goes on working, the warning stays in the status bar

    def _on_data_failed(self, problem: BaseException) -> None:
        if not isinstance(problem, DataLocked | ConfigError | PassphraseRequired):
            self._show_blocked("Sanctum could not open its data", user_message(problem))
            return
        if isinstance(problem, DataLocked):
            title = "This data folder cannot be opened on this computer"
        elif isinstance(problem, PassphraseRequired):
            title = "Sanctum needs your passphrase to open your data"
        else:
            title = "Sanctum cannot use this data folder"
        self._show_blocked(title, str(problem))

    def _show_blocked(self, title: str, message: str) -> None:
        self.blocked = True
        root = html.escape(str(self.w.engine.paths.root))
        body = (f"<p>{html.escape(message[:1].upper() + message[1:], quote=False)}</p>"
                "<p><b>What you can do:</b></p><ul>"
                "<li>If this folder was copied from another computer, open it on that computer: the key that "
                "unlocks it is in that computer's keyring.</li>"
                "<li>If you use a passphrase, choose <i>Try again</i> and type it.</li>"
                "<li>To start afresh here, <i>Wipe this data…</i> deletes this folder's contents (your "
                "original files are not touched).</li></ul>"
                f"<p>Data folder: {root}</p>")
        self.w.notice.show_notice(title, body, [("Quit", self.w.close), ("Wipe this data…", self.confirm_wipe),
                                                ("Try again", self.open_data)])
        self._enable_actions(False)
        if not self.locked:
            self.w.stack.setCurrentWidget(self.w.notice)

    # -- wiping -----------------------------------------------------------------------------

    def wipe_dialog(self) -> WipeDialog:
        return WipeDialog(self.w.engine.paths.root, parent=self.w)

    def confirm_wipe(self) -> None:
        dialog = self.wipe_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.wipe()

    def wipe(self) -> None:
        """Stop all work, close the engine, delete the key and every file; then say so and offer to close.

        The key goes first (see :mod:`app.core.privacy.wipe`). The window then writes nothing more, not even
        its geometry, so the folder stays empty.
        """
        from app.core.privacy.service import WipeRefused

        w = self.w
        self.wiped = True
        w.idle.watch(None)
        w.chat.stop_saving_drafts()
        if w.chats.worker is not None:
            w.chats.worker.stop()
        w.docs.cancel()
        w.docs.passwords.cancel()
        w.statusBar().showMessage("Deleting all data…")
        self._enable_actions(False)
        w.lanes.wait(120_000)
        root = w.engine.paths.root
        try:
            removed = w.engine.privacy_service().wipe()  # closes the engine first
        except WipeRefused as exc:  # not Sanctum's folder: nothing was deleted
            w.notice.show_notice("Nothing was deleted", f"<p>{html.escape(str(exc))}</p>",
                                 [("Close Sanctum", w.close)])
        except OSError as exc:
            log.error("wipe failed: %s", exc)
            w.notice.show_notice("The data could not be fully deleted",
                                 f"<p>{html.escape(str(exc))}</p><p>Close Sanctum and run <code>sanctum wipe</code> "
                                 "in a terminal to finish.</p>", [("Close Sanctum", w.close)])
        else:
            w.notice.show_notice(
                "All Sanctum data was deleted",
                f"<p>The encryption key and {len(removed)} items in {html.escape(str(root))} were deleted: the "
                "document index, conversations, audit log and settings. Your original files were not touched.</p>"
                "<p>Sanctum will now close. Open it again to start afresh with an empty library.</p>",
                [("Close Sanctum", w.close)])
        w.statusBar().clearMessage()
        w.stack.setCurrentWidget(w.notice)
