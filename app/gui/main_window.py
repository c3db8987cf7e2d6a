"""The main window: conversations on the left, the chat in the middle, library and sources on the right.

It only lays out the panels and wires them to their controllers; the work happens in the
controllers (which call the engine's services in the worker lanes).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.engine import Engine
from app.core.models.gguf import read_gguf_info
from app.core.values import Citation, Document
from app.gui import theme
from app.gui.chat.chat_panel import ChatPanel
from app.gui.chat.controller import ChatController
from app.gui.chat.conversation_list_panel import ConversationListPanel
from app.gui.chat.scope_dialog import ScopeDialog
from app.gui.library.controller import LibraryController
from app.gui.library.library_panel import LibraryPanel
from app.gui.models.controller import ModelsController
from app.gui.offline import OfflineIndicator
from app.gui.privacy.controller import PrivacyController
from app.gui.privacy.dialogs import ExportDialog
from app.gui.privacy.idle import IdleWatcher
from app.gui.privacy.screens import LockScreen, NoticeScreen
from app.gui.privacy.window_states import WindowStates
from app.gui.settings.settings_dialog import SettingsDialog, describe_model
from app.gui.tasks import Lanes, user_message
from app.gui.viewer.source_panel import SourcePanel


class _DropOverlay(QFrame):
    """Shown over the window while files are dragged onto it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("DropOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QVBoxLayout(self)
        label = QLabel("Drop to add to your library", self)
        label.setFont(theme.scaled_font(self, 1.6, bold=True))
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
        self.hide()


class ColumnSplitter(QSplitter):
    """Three columns where the middle one (the conversation) keeps at least half the window's width.

    The side columns keep the widths they were given (by default, by the user dragging a handle,
    by a restored layout) while there is room; when the window is narrowed the right one gives way
    first, then the left one, each down to its least width, and they get their widths back when it
    is widened again. A collapsed column (width 0) stays collapsed.
    """

    CENTRE_SHARE = 0.5

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._wanted: list[int] | None = None  # the side widths asked for, as [left, centre, right]
        self.splitterMoved.connect(self._on_splitter_moved)

    def centre_minimum(self) -> int:
        """The least width the middle column may have now: half the window's width."""
        return math.ceil(self.window().width() * self.CENTRE_SHARE)

    def _least(self, index: int) -> int:
        w = self.widget(index)
        return w.minimumWidth() or w.minimumSizeHint().width()

    def fit(self, sizes: list[int]) -> list[int]:
        """``sizes`` changed as little as possible so the middle one has its share."""
        if len(sizes) != 3 or sum(sizes) <= 0:
            return list(sizes)
        left, centre, right = sizes
        deficit = self.centre_minimum() - centre
        if deficit > 0 and right > 0:
            take = min(deficit, max(0, right - self._least(2)))
            right, centre, deficit = right - take, centre + take, deficit - take
        if deficit > 0 and left > 0:
            take = min(deficit, max(0, left - self._least(0)))
            left, centre = left - take, centre + take
        return [left, centre, right]

    def set_wanted(self, sizes: list[int]) -> None:
        """Ask for these column widths; the conversation's share is kept."""
        self._wanted = list(sizes)
        self.apply()

    def wanted(self) -> list[int]:
        """The column widths asked for (to keep for the next start)."""
        return list(self._wanted) if self._wanted is not None else self.sizes()

    def apply(self) -> None:
        """Lay the columns out for the present width: the side widths asked for, within the rule."""
        current = self.sizes()
        sizes = current
        if self._wanted is not None and len(current) == 3:
            left, _, right = self._wanted
            sizes = [left, max(0, sum(current) - left - right), right]
        fitted = self.fit(sizes)
        if fitted != current:
            self.setSizes(fitted)

    def _on_splitter_moved(self, *_: object) -> None:
        self._wanted = None
        self.apply()
        self._wanted = self.sizes()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.apply()


READABLE_PAGE = 340  # px: the least width at which the source viewer shows a page worth reading


def dropped_paths(urls: list) -> list[Path]:
    """Local files and folders among dropped URLs (anything else is ignored)."""
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile() and u.toLocalFile()]


def shipped_choices(engine: Engine) -> list[tuple[str, str, str]]:
    """The bundled chat models for Settings: title, file, and what each costs on this computer."""
    from app.core.models import shipped as models

    choices = []
    for shipped in models.SHIPPED_CHAT_MODELS:
        path = models.shipped_models_dir() / shipped.file.filename
        if not path.exists():
            continue
        title = shipped.title + (" (recommended)" if shipped is models.DEFAULT_SHIPPED else "")
        speed = engine.speeds.speed(str(path))
        note = (speed.describe().capitalize() if speed else "Not used on this computer yet") + \
            f" · {shipped.file.size / 1e9:.1f} GB · {shipped.summary}"
        choices.append((title, str(path), note))
    return choices


class MainWindow(QMainWindow):
    """The app's one window.

    Args:
        engine: The composition root; the window uses its services, never its components.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.setWindowTitle("Sanctum")
        self.setAcceptDrops(True)
        self.lanes = Lanes(self)
        self.ui_state = QSettings(str(engine.paths.root / "window.ini"), QSettings.Format.IniFormat)
        self.model_ready = False

        self.conversations = ConversationListPanel(self)
        self.chat = ChatPanel(self)
        self.library = LibraryPanel(self)
        self.source = SourcePanel(self)
        self.side = QTabWidget(self)
        self.side.setAccessibleName("Library and sources")
        self.side.addTab(self.library, "&Library")
        self.side.addTab(self.source, "&Source")
        self.splitter = ColumnSplitter(self)
        self.splitter.setChildrenCollapsible(False)
        for w in (self.conversations, self.chat, self.side):
            self.splitter.addWidget(w)
        self.splitter.setCollapsible(0, True)  # folded away in a narrow window to make room for a page
        self.splitter.setStretchFactor(1, 1)
        # The content, the lock screen and notices share one place: locked, nothing of it is shown.
        self.stack = QStackedWidget(self)
        self.lock_screen = LockScreen(self.stack)
        self.notice = NoticeScreen(self.stack)
        for page in (self.splitter, self.lock_screen, self.notice):
            self.stack.addWidget(page)
        self.setCentralWidget(self.stack)
        self.overlay = _DropOverlay(self)
        self.privacy = PrivacyController(engine, self.lanes, self)
        self.idle = IdleWatcher(self)
        self.states = WindowStates(self)

        self.chats = ChatController(engine, self.lanes, self.chat, self.conversations, self)
        self.docs = LibraryController(engine, self.lanes, self.library, self)
        self.models = ModelsController(engine, self.lanes, self)
        self.models.sig_models_changed.connect(self.refresh_model_choices)
        self.models.sig_message.connect(self._on_controller_message)
        self.chats.sig_citation_clicked.connect(self.open_citation)
        self.chats.sig_evidence_clicked.connect(self.open_citation)
        self.chats.sig_message.connect(self._on_controller_message)
        self.docs.sig_message.connect(self._on_controller_message)
        self.docs.sig_documents.connect(self._on_docs_documents)
        self.chat.sig_scope_clicked.connect(self._on_chat_scope_clicked)
        self.chat.welcome.add_files.clicked.connect(self.add_files)
        self.chat.welcome.add_folder.clicked.connect(self.add_folder)
        self.library.sig_add_files.connect(self.add_files)
        self.library.sig_add_folder.connect(self.add_folder)
        self.conversations.sig_export.connect(self.export_conversation)
        self.chat.sig_export_clicked.connect(self.export_conversation)
        self._build_status_bar()
        self._build_menus()
        self._restore_geometry()
        self.documents: list[Document] = []

    # -- building ---------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.offline_label = OfflineIndicator(self)
        self.model_label = QLabel("Chat model: loading…", self)
        self.model_label.setAccessibleName("Chat model")
        self.docs_label = QLabel("", self)
        self.docs_label.setAccessibleName("Library size")
        # Permanent: temporary messages ("2 added") must never hide the offline indicator.
        self.audit_label = QLabel("", self)  # only when the audit log was deleted or rolled back
        self.audit_label.setAccessibleName("Audit log warning")
        self.audit_label.setTextFormat(Qt.TextFormat.PlainText)
        self.audit_label.hide()
        bar.addPermanentWidget(self.audit_label)
        bar.addPermanentWidget(self.offline_label)
        bar.addPermanentWidget(self.docs_label)
        bar.addPermanentWidget(self.model_label)

    def _build_menus(self) -> None:
        def action(menu, text: str, slot, shortcut=None, name: str | None = None) -> QAction:  # noqa: ANN001
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            menu.addAction(a)
            self.content_actions.append(a)
            return a

        self.content_actions: list[QAction] = []  # disabled while the window is locked

        m = self.menuBar().addMenu("&File")
        action(m, "Add &files…", self.add_files, QKeySequence.StandardKey.Open)
        action(m, "Add f&older…", self.add_folder, "Ctrl+Shift+O")
        m.addSeparator()
        action(m, "&Settings…", self.open_settings, "Ctrl+,")
        action(m, "&Models…", self.open_models, "Ctrl+Shift+M")
        m.addSeparator()
        quit_action = action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.content_actions.remove(quit_action)  # quitting is always allowed, also when locked
        m = self.menuBar().addMenu("&Conversation")
        action(m, "&New conversation", self.chats.new_conversation, QKeySequence.StandardKey.New)
        action(m, "&Rename…", self.conversations.rename_current)
        action(m, "&Delete…", self.conversations.delete_current)
        action(m, "&Choose documents…", self._on_chat_scope_clicked)
        action(m, "&Export…", self.export_conversation, "Ctrl+E")
        action(m, "&Stop the answer", self.chats.stop)
        m = self.menuBar().addMenu("&View")
        action(m, "&Question box", lambda: self.chat.input.setFocus(), "Ctrl+L")
        action(m, "&Conversations", self.show_conversations, "Ctrl+1")
        action(m, "&Library", lambda: self._show_side(self.library, self.library.view), "Ctrl+2")
        action(m, "&Source", lambda: self._show_side(self.source, self.source.stack), "Ctrl+3")
        m = self.menuBar().addMenu("&Help")
        action(m, "&About Sanctum", self._about)

    def show_conversations(self) -> None:
        """Focus the list of conversations, unfolding it if a narrow window folded it away."""
        left, centre, right = self.splitter.wanted()
        if self.splitter.sizes()[0] == 0:
            least = self.conversations.minimumSizeHint().width()
            self.splitter.set_wanted([least, centre - least, right])  # the right column gives way first
        self.conversations.view.setFocus()

    def _show_side(self, widget: QWidget, focus: QWidget) -> None:
        self.side.setCurrentWidget(widget)
        focus.setFocus()

    def _restore_geometry(self) -> None:
        geometry = self.ui_state.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1240, 780)
        columns = str(self.ui_state.value("window/columns", ""))
        sizes = self.ui_state.value("window/splitter")
        if columns.count(",") == 2 and all(c.strip().isdigit() for c in columns.split(",")):
            self.splitter.set_wanted([int(c) for c in columns.split(",")])
        elif isinstance(sizes, QByteArray) and not sizes.isEmpty():
            # Saved before the widths were kept: the splitter lays them out once shown (its sizes
            # are not known before), and they are then only fitted to the rule.
            self.splitter.restoreState(sizes)
        else:
            self.splitter.set_wanted([230, 620, 390])

    # -- starting ---------------------------------------------------------------------------

    def start(self) -> None:
        """Open the library and conversations, and load the chat model, all off the UI thread.

        With the app lock on, the lock screen comes first (the content loads behind it). A data
        folder that cannot be opened here (its key is elsewhere, a refused library) gets a screen
        that says why and what to do.
        """
        self.states.start()
        self.chat.input.setFocus()
        self.states.open_data()
        self.lanes.run(self.lanes.inference, self.engine.chat_model, self._on_model_loaded, self._on_model_failed)
        if not self.states.data_pending:  # it reads the library: after the lock screen when the lock is on
            self.load_embedder()

    def load_embedder(self) -> None:
        """The embedder (torch), in the inference lane so the chat model is ready first: a first
        question or file need not wait for it. A failure surfaces with that first use, with its message."""
        self.lanes.run(self.lanes.inference, lambda: self.engine.embedder)

    def load_content(self) -> None:
        """Read the library and the conversations (once the data is open)."""
        self.docs.refresh()
        self.chats.load()
        self.refresh_model_choices()

    def open_models(self) -> None:
        """The Models window: the chat models, their adapters, quantizing, comparing."""
        self.models.open(self)

    def refresh_model_choices(self) -> None:
        """Fill the conversation's model chooser from the library (off the UI thread: headers are read)."""
        def choices() -> list[tuple[str | None, str, str]]:
            from app.gui.models.models_dialog import model_label

            views = self.engine.model_service().models(hashes=False)
            default = next((v for v in views if v.default), None)
            out: list[tuple[str | None, str, str]] = [
                (None, "Default model", (f"{model_label(default, views)}: " if default else "") +
                 "the model chosen for new conversations (File › Models…)")]
            out += [(v.key, model_label(v, views), str(v.path)) for v in views if not v.problem]
            return out

        self.lanes.run(self.lanes.io, choices, lambda c: self.chat.set_models(c, self.chats.model_key()))

    def _on_model_loaded(self, model: object) -> None:
        self.model_ready = True
        address = getattr(model, "address", None)
        if address is not None:  # a team server (app.core.models.remote)
            self.model_label.setText(f"Chat model: {model.model} · team server")  # type: ignore[attr-defined]
            self.model_label.setToolTip(f"Answers are written by {model.name} on your team's server.")  # type: ignore[attr-defined]
            return
        info = model.info  # type: ignore[attr-defined]
        self.model_label.setText(f"Chat model: {info.name} · {info.quantization or 'GGUF'}")
        self.model_label.setToolTip(describe_model(info))

    def _on_model_failed(self, error: BaseException) -> None:
        message = user_message(error)
        self.model_label.setText(f"<span style='color:{theme.error_color()}'>Chat model not loaded</span>")
        self.model_label.setToolTip(message)
        self._on_controller_message(f"The chat model could not be loaded: {message} — choose another in Settings.")

    def _on_docs_documents(self, docs: list[Document]) -> None:
        self.documents = docs
        ready = [d for d in docs if d.status == "ready"]
        self.docs_label.setText(f"{len(ready)} document{'s' if len(ready) != 1 else ''}")
        self.chat.welcome.set_document_count(len(ready))
        self.chats.documents = {d.doc_id: d.name for d in docs}

    def _on_controller_message(self, text: str) -> None:
        if self.states.showing_content():  # a note may name a file: never under the lock screen
            self.statusBar().showMessage(text, 8000)

    # -- documents --------------------------------------------------------------------------

    def add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add files to your library")
        self.add_paths([Path(f) for f in files])

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to your library")
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: list[Path]) -> None:
        if paths:
            self.side.setCurrentWidget(self.library)
            self.docs.add(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.states.showing_content() and dropped_paths(event.mimeData().urls()):
            event.acceptProposedAction()
            self.overlay.setGeometry(self.centralWidget().geometry().adjusted(16, 16, -16, -16))
            self.overlay.show()
            self.overlay.raise_()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.overlay.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.overlay.hide()
        paths = dropped_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    # -- sources ----------------------------------------------------------------------------

    def open_citation(self, citation: Citation, quote: str = "") -> None:
        """Show a cited passage in the viewer; ``quote`` (an evidence sentence of it) is marked."""
        self.side.setCurrentWidget(self.source)
        left, centre, side = self.splitter.sizes()
        # A page must be readable: the viewer gets what the conversation's half leaves, narrowing
        # the conversation list to its least width first.
        left_min = self.conversations.minimumSizeHint().width()
        room = left + centre + side - self.splitter.centre_minimum()
        wanted = min(int(self.splitter.width() * 0.45), room - left_min)
        if wanted < READABLE_PAGE and room - READABLE_PAGE >= 0:
            # A narrow window: a page needs the width more than the list of conversations does,
            # which folds away (Ctrl+1 brings it back).
            left, wanted = 0, min(max(side, int(self.splitter.width() * 0.45)), room)
        if wanted > side:
            left = max(left_min, min(left, room - wanted)) if left else 0
            self.splitter.set_wanted([left, left + centre + side - left - wanted, wanted])
        self.source.show_loading(citation, quote)
        service = self.engine.source_service()
        self.lanes.run(
            self.lanes.io,
            lambda: service.locate(citation.path, text=citation.text, page=citation.page, label=citation.label),
            lambda loc: self.source.show_location(citation, loc, quote),
            lambda error: self.source.show_error(citation, user_message(error)),
        )

    # -- dialogs ----------------------------------------------------------------------------

    def _on_chat_scope_clicked(self) -> None:
        ready = [d for d in self.documents if d.status == "ready"]
        dialog = ScopeDialog(ready, self.chats.scope(), parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.chats.set_scope(dialog.chosen())

    def settings_dialog(self) -> SettingsDialog:
        """The settings dialog, with the chosen model's header read in the io lane."""
        from app.core.models import shipped as models

        default = str(models.shipped_models_dir() / models.DEFAULT_CHAT.filename)
        dialog = SettingsDialog(self.engine.settings, default_model=default, privacy=self.privacy,
                                shipped=shipped_choices(self.engine), parent=self)
        if dialog.privacy_page is not None:
            dialog.privacy_page.sig_wipe_requested.connect(lambda: (dialog.reject(), self.states.confirm_wipe()))

        def read(path: str) -> None:
            self.lanes.run(self.lanes.io, lambda: describe_model(read_gguf_info(Path(path))),
                           lambda text: dialog.show_model_info(path, text, ok=True),
                           lambda error: dialog.show_model_info(path, user_message(error), ok=False))

        dialog.sig_model_chosen.connect(read)
        dialog.sig_manage_models.connect(lambda: self.models.open(dialog))
        read(self.engine.settings.chat_model or default)
        return dialog

    def open_settings(self) -> None:
        dialog = self.settings_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_settings() is not None:
            token = dialog.team_page.new_token()
            server = dialog.result_settings().chat_server
            if token and server:  # the keyring, never the settings file
                self.engine.privacy_service().set_server_token(server, token)
            self.apply_settings(dialog.result_settings())

    def apply_settings(self, settings) -> None:  # noqa: ANN001
        """Save new settings; a new chat model is loaded in the answer lane (after any answer)."""
        self.model_label.setText("Chat model: loading…")

        def work() -> object:
            self.engine.apply_settings(settings)
            return self.engine.chat_model()

        self.lanes.run(self.lanes.inference, work, self._on_model_loaded, self._on_model_failed)
        self._on_controller_message("Settings saved.")

    # -- export -----------------------------------------------------------------------------

    def export_dialog(self, conv_id: str | None = None) -> tuple[str, ExportDialog] | None:
        """The export dialog for a conversation (by default the open one); None when there is none."""
        conv_id = conv_id or (self.chats.current.conv_id if self.chats.current else None)
        if conv_id is None:
            self._on_controller_message("Nothing to export yet: ask a question first.")
            return None
        item = next((c for c in self.conversations.model.items if c.conv_id == conv_id), None)
        title = item.title if item else self.chat.full_title()
        folder = Path(str(self.ui_state.value("export/folder", str(Path.home()))))
        return conv_id, ExportDialog(title, folder if folder.is_dir() else Path.home(), parent=self)

    def export_conversation(self, conv_id: str | None = None) -> None:
        made = self.export_dialog(conv_id if isinstance(conv_id, str) else None)
        if made is not None and made[1].exec() == QDialog.DialogCode.Accepted:
            self.run_export(made[0], made[1])

    def run_export(self, conv_id: str, dialog: ExportDialog) -> None:
        """Export as an accepted dialog says (in the io lane); the result goes to the status bar."""
        path, redact = dialog.chosen_path(), dialog.redact.isChecked()
        self.ui_state.setValue("export/folder", str(path.parent))
        self._on_controller_message("Exporting…")
        self.privacy.export(conv_id, path, redact=redact, on_done=self._on_controller_message,
                            on_failed=lambda e: self._on_controller_message(f"The export failed: {user_message(e)}"))

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.about(self, "About Sanctum",
                          f"<b>Sanctum {__version__}</b><p>Chat with your private documents on your own computer. "
                          "Nothing leaves it.</p><p>Your data folder: "
                          f"{html.escape(str(self.engine.paths.root))}</p>")

    # -- closing ----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the work in hand, keep everything (the answer so far, the unsent text), then close."""
        self.docs.passwords.cancel()
        if self.states.wiped:  # nothing may be written again into the wiped folder
            event.accept()
            return
        self.ui_state.setValue("window/geometry", self.saveGeometry())
        self.ui_state.setValue("window/splitter", self.splitter.saveState())
        self.ui_state.setValue("window/columns", ",".join(str(n) for n in self.splitter.wanted()))
        self.ui_state.sync()
        self.chats.close(self.chat.input.toPlainText())
        self.docs.cancel()
        self.statusBar().showMessage("Saving and closing…")
        self.lanes.wait(60_000)
        event.accept()

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.setGeometry(self.centralWidget().geometry().adjusted(16, 16, -16, -16))
