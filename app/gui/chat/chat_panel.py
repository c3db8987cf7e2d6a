"""The conversation view: the transcript, a first-run welcome, and the question box."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.values import USER, StoredMessage
from app.gui import theme
from app.gui.chat.message_widget import MessageWidget
from app.gui.safe_text import plain, tooltip


class ComposerEdit(QPlainTextEdit):
    """The question box: Enter sends, Shift+Enter starts a new line; grows up to six lines."""

    sig_submit = Signal()
    """Emitted when Enter is pressed without Shift."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Ask a question about your documents…")
        self.setToolTip("Enter sends · Shift+Enter starts a new line")
        self.setAccessibleName("Question")
        self.setAccessibleDescription("Type a question. Enter sends it; Shift+Enter starts a new line.")
        self.document().contentsChanged.connect(self._fit)
        self._fit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.sig_submit.emit()
            return
        super().keyPressEvent(event)

    def _fit(self) -> None:
        lines = max(2, min(6, int(self.document().size().height())))
        margins = self.contentsMargins()
        height = self.fontMetrics().lineSpacing() * lines + margins.top() + margins.bottom() + 12
        self.setFixedHeight(height)


class WelcomeCard(QFrame):
    """What an empty conversation shows: how to start, in two sentences."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WelcomeCard")
        self.setAccessibleName("Getting started")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(12)
        self.title = QLabel("Ask about your documents", self)
        self.title.setFont(theme.scaled_font(self, 1.5, bold=True))
        self.title.setWordWrap(True)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setFont(theme.scaled_font(self, 1.08))
        self.add_files = QPushButton("Add files…", self)
        self.add_files.setAccessibleName("Add files to the library")
        self.add_folder = QPushButton("Add a folder…", self)
        self.add_folder.setAccessibleName("Add a folder to the library")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_files)
        buttons.addWidget(self.add_folder)
        buttons.addStretch(1)
        privacy = QLabel("Everything stays on this computer: your files, your questions and the answers.", self)
        privacy.setWordWrap(True)
        theme.set_muted(privacy)
        for w in (self.title, self.hint):
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addWidget(privacy)
        self.set_document_count(0)

    def set_document_count(self, count: int) -> None:
        if count == 0:
            self.hint.setText(
                "Drop files or whole folders anywhere on this window — PDF, Word, Excel, PowerPoint, web "
                "pages, e-mails and text. Sanctum reads them here, then answers your questions with the "
                "page each answer comes from."
            )
        else:
            docs = f"{count} document{'s' if count != 1 else ''}"
            self.hint.setText(
                f"Your library has {docs}. Type a question below; each answer names the file and page it "
                "comes from, and you can click a source to read it in place."
            )


class ChatPanel(QWidget):
    """The transcript of one conversation and the question box."""

    sig_send = Signal(str)
    """Emitted with the question when the user sends it."""

    sig_stop = Signal()
    """Emitted when the user stops the answer being written."""

    sig_regenerate = Signal()
    """Emitted when the user asks for the last answer again."""

    sig_citation_clicked = Signal(object)
    """Emitted with a Citation when its chip is clicked."""

    sig_evidence_clicked = Signal(object, str)
    """Emitted with a Citation and the quote to highlight when an evidence sentence is clicked."""

    sig_copy = Signal(str)
    """Emitted with text to put on the clipboard."""

    sig_scope_clicked = Signal()
    """Emitted when the user wants to choose which documents this conversation uses."""

    sig_draft_changed = Signal(str)
    """Emitted (debounced) with the unsent text, so it can be kept."""

    sig_export_clicked = Signal()
    """Emitted when the user wants to export this conversation."""

    sig_model_chosen = Signal(object)
    """Emitted with the key of the chat model this conversation should use (None: the default)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.busy = False
        self.messages: list[MessageWidget] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        header = QHBoxLayout()
        header.setContentsMargins(20, 10, 16, 8)
        header.setSpacing(8)
        self.title = QLabel("New conversation", self)
        self.title.setAccessibleName("Conversation title")
        self.title.setFont(theme.scaled_font(self, 1.2, bold=True))
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        plain(self.title)  # a title may quote a document or a question: shown as it is
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.scope_button = QPushButton("Uses: all documents", self)
        self.scope_button.setAccessibleName("Documents this conversation uses")
        self.scope_button.setToolTip("Choose which documents this conversation answers from")
        self.scope_button.clicked.connect(self.sig_scope_clicked)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setAccessibleName("Export this conversation")
        self.export_button.setToolTip("Save this conversation as Markdown or PDF, optionally without personal data "
                                      "(Ctrl+E)")
        self.export_button.clicked.connect(self.sig_export_clicked)
        self.export_button.setEnabled(False)  # until the conversation has a message
        self.model_box = QComboBox(self)
        self.model_box.setAccessibleName("Chat model for this conversation")
        self.model_box.setToolTip("Which chat model answers in this conversation (Models… in the File menu "
                                  "adds and compares models)")
        # A narrow window keeps the title readable: the box stays short, its list is as wide as needed.
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(12)
        self.model_box.view().setMinimumWidth(380)
        self.model_box.activated.connect(lambda i: self.sig_model_chosen.emit(self.model_box.itemData(i)))
        header.addWidget(self.title, 1)
        header.addWidget(self.scope_button)
        header.addWidget(self.export_button)
        layout.addLayout(header)

        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("Transcript")
        self.scroll.setAccessibleName("Conversation")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(self.scroll)
        body.setObjectName("TranscriptBody")
        self.transcript = QVBoxLayout(body)
        self.transcript.setContentsMargins(20, 8, 20, 16)
        self.transcript.setSpacing(12)
        self.welcome = WelcomeCard(body)
        self.transcript.addWidget(self.welcome)
        self.transcript.addStretch(1)
        self.scroll.setWidget(body)
        layout.addWidget(self.scroll, 1)
        self.scroll.verticalScrollBar().rangeChanged.connect(self._on_scroll_range_changed)
        self._stick_to_bottom = True

        composer = QFrame(self)
        row = QHBoxLayout(composer)
        row.setContentsMargins(20, 8, 20, 14)
        row.setSpacing(10)
        self.input = ComposerEdit(composer)
        self.input.sig_submit.connect(self._on_input_submit)
        self.send_button = QPushButton("Send", composer)
        self.send_button.setAccessibleName("Send question")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self._on_send_button_clicked)
        row.addWidget(self.input, 1)
        side = QVBoxLayout()  # the model that will answer, beside the question box and above Send
        side.setSpacing(6)
        side.addStretch(1)
        self.model_box.setParent(composer)
        side.addWidget(self.model_box)
        side.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignRight)
        row.addLayout(side)
        layout.addWidget(composer)

        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(800)
        self._draft_timer.timeout.connect(lambda: self.sig_draft_changed.emit(self.input.toPlainText()))
        self.input.textChanged.connect(self._draft_timer.start)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self._on_escape)
        self.scroll.viewport().installEventFilter(self)

    # -- building the transcript ---------------------------------------------------------------

    def clear(self) -> None:
        for w in self.messages:
            w.deleteLater()
        self.messages = []
        self.welcome.setVisible(True)
        self.export_button.setEnabled(False)

    def _add(self, widget: MessageWidget) -> MessageWidget:
        self.welcome.setVisible(False)
        self.transcript.insertWidget(self.transcript.count() - 1, widget)
        widget.sig_citation_clicked.connect(self.sig_citation_clicked)
        widget.sig_evidence_clicked.connect(self.sig_evidence_clicked)
        widget.sig_copy.connect(self.sig_copy)
        widget.sig_regenerate.connect(self.sig_regenerate)
        self.messages.append(widget)
        self.export_button.setEnabled(True)
        self._stick_to_bottom = True
        return widget

    def show_messages(self, messages: list[StoredMessage]) -> None:
        self.clear()
        for m in messages:
            w = self._add(MessageWidget(m.role, m.text, created_at=m.created_at, parent=self))
            w.msg_id = m.msg_id
            if m.role != USER:
                w.set_evidence(m.evidence, supported=m.supported)
                w.set_citations(m.citations)
                if m.cancelled:
                    w.set_status("Stopped before the end.", kind="stopped")
        self._refresh_regenerate()

    def add_question(self, text: str) -> MessageWidget:
        return self._add(MessageWidget(USER, text, parent=self))

    def begin_answer(self) -> MessageWidget:
        w = self._add(MessageWidget("assistant", "", parent=self))
        w.set_status("Searching your documents…", kind="waiting")
        return w

    def _refresh_regenerate(self) -> None:
        answers = [w for w in self.messages if w.role != USER]
        for w in answers:
            w.finish(can_regenerate=(w is answers[-1] and not self.busy))

    # -- state ------------------------------------------------------------------------------

    def set_models(self, choices: list[tuple[str | None, str, str]], current: str | None) -> None:
        """Fill the model chooser: (key or None for the default, short label, tooltip) each."""
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for key, label, tip in choices:
            self.model_box.addItem(label, key)
            self.model_box.setItemData(self.model_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.model_box.blockSignals(False)
        self.show_model(current)

    def show_model(self, key: str | None) -> None:
        """Show the conversation's model (an unknown key, a removed model: the default)."""
        index = self.model_box.findData(key)
        self.model_box.setCurrentIndex(index if index >= 0 else 0)

    def set_busy(self, busy: bool) -> None:
        """While an answer is written the Send button becomes Stop."""
        self.busy = busy
        self.send_button.setText("Stop" if busy else "Send")
        self.send_button.setAccessibleName("Stop the answer" if busy else "Send question")
        self.send_button.setToolTip("Stop writing this answer (Esc)" if busy else "Send (Enter)")
        self._refresh_regenerate()

    def set_title(self, title: str) -> None:
        self._full_title = title
        self.title.setToolTip(tooltip(title))
        self.title.setAccessibleDescription(title)
        self._elide_title()

    _full_title = "New conversation"

    def _elide_title(self) -> None:
        width = max(80, self.title.width())
        self.title.setText(self.title.fontMetrics().elidedText(self._full_title, Qt.TextElideMode.ElideRight, width))

    def full_title(self) -> str:
        return self._full_title

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        self._elide_title()

    def set_scope(self, text: str) -> None:
        self.scope_button.setText(text)

    def stop_saving_drafts(self) -> None:
        """Report no more drafts (before the data folder is wiped: nothing may be written after)."""
        with contextlib.suppress(RuntimeError, TypeError):
            self.sig_draft_changed.disconnect()
        self._draft_timer.stop()

    def set_draft(self, text: str) -> None:
        self.input.blockSignals(True)
        self.input.setPlainText(text)
        self.input.blockSignals(False)

    # -- events ----------------------------------------------------------------------------

    def _on_input_submit(self) -> None:
        if self.busy:
            return
        text = self.input.toPlainText().strip()
        if not text:
            return
        self.input.clear()
        self._draft_timer.stop()
        self.sig_draft_changed.emit("")
        self.sig_send.emit(text)

    def _on_send_button_clicked(self) -> None:
        if self.busy:
            self.sig_stop.emit()
        else:
            self._on_input_submit()

    def _on_escape(self) -> None:
        if self.busy:
            self.sig_stop.emit()

    def _on_scroll_range_changed(self, _min: int, maximum: int) -> None:
        if self._stick_to_bottom:
            self.scroll.verticalScrollBar().setValue(maximum)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Scrolling up by hand while an answer streams stops the view from jumping to the bottom.
        if event.type() == QEvent.Type.Wheel:
            bar = self.scroll.verticalScrollBar()
            QTimer.singleShot(0, lambda: setattr(self, "_stick_to_bottom", bar.value() >= bar.maximum() - 4))
        return super().eventFilter(obj, event)
