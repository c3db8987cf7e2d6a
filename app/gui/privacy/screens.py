"""Full-window pages shown instead of the content: the lock screen and plain notices.

They replace the conversations, chat and library in the window's stack, so nothing of a
patient's documents or questions is visible behind them.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.gui import theme


class _Card(QFrame):
    """A centred card on an empty page."""

    def __init__(self, page: QWidget) -> None:
        super().__init__(page)
        self.setObjectName("ScreenCard")
        self.setMaximumWidth(self.fontMetrics().averageCharWidth() * 80)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(36, 30, 36, 30)
        self.box.setSpacing(14)
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)


class LockScreen(QWidget):
    """"Sanctum is locked": the lock passphrase and Unlock."""

    sig_unlock = Signal(str)
    """Emitted with the passphrase typed (the window checks it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Sanctum is locked")
        card = _Card(self)
        title = QLabel("Sanctum is locked", card)
        title.setFont(theme.scaled_font(self, 1.5, bold=True))
        hint = QLabel("Type the app-lock passphrase to show your conversations and documents.", card)
        hint.setWordWrap(True)
        self.field = QLineEdit(card)
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("App-lock passphrase")
        self.field.setPlaceholderText("App-lock passphrase")
        self.field.returnPressed.connect(self._on_unlock_clicked)
        self.unlock_button = QPushButton("Unlock", card)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._on_unlock_clicked)
        row = QHBoxLayout()
        row.addWidget(self.field, 1)
        row.addWidget(self.unlock_button)
        self.message = QLabel("", card)
        self.message.setAccessibleName("Unlock problem")
        self.message.setWordWrap(True)
        self.message.setVisible(False)  # no empty gap under the field
        note = QLabel("Your data stays encrypted on disk whether Sanctum is locked or not. An answer being "
                      "written goes on in the background.", card)
        note.setWordWrap(True)
        theme.set_muted(note)
        for w in (title, hint):
            card.box.addWidget(w)
        card.box.addLayout(row)
        card.box.addWidget(self.message)
        card.box.addWidget(note)

    def _on_unlock_clicked(self) -> None:
        if self.field.text():
            self.set_busy(True)
            self.sig_unlock.emit(self.field.text())

    def set_busy(self, busy: bool) -> None:
        self.unlock_button.setEnabled(not busy)
        self.field.setReadOnly(busy)
        if busy:
            self._say("Checking…")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def reset(self) -> None:
        """Empty and ready for a passphrase (each time the window locks)."""
        self.field.clear()
        self.set_busy(False)
        self._say("")
        self.field.setFocus()

    def refuse(self, text: str) -> None:
        """Show why the passphrase was refused and let the person try again."""
        self.set_busy(False)
        self._say(f"<span style='color:{theme.error_color()}'>{html.escape(text)}</span>")
        self.field.selectAll()
        self.field.setFocus()


class NoticeScreen(QWidget):
    """A title, an explanation and a row of buttons (data cannot be opened, data wiped …)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        card = _Card(self)
        self.title = QLabel("", card)
        self.title.setFont(theme.scaled_font(self, 1.4, bold=True))
        self.title.setWordWrap(True)
        self.body = QLabel("", card)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        card.box.addWidget(self.title)
        card.box.addWidget(self.body)
        card.box.addLayout(self.buttons)

    def show_notice(self, title: str, body_html: str, buttons: list[tuple[str, object]]) -> None:
        """Set the text; ``buttons`` are (label, slot) pairs, the last one the default."""
        self.title.setText(title)
        self.setAccessibleName(title)
        self.body.setText(body_html)
        while self.buttons.count() > 1:
            item = self.buttons.takeAt(1)
            if item.widget():
                item.widget().deleteLater()
        for i, (label, slot) in enumerate(buttons):
            button = QPushButton(label, self)
            button.clicked.connect(slot)
            button.setDefault(i == len(buttons) - 1)
            self.buttons.addWidget(button)

    def button(self, label: str) -> QPushButton | None:
        """The button with that label (tests, keyboard focus)."""
        for i in range(self.buttons.count()):
            w = self.buttons.itemAt(i).widget()
            if isinstance(w, QPushButton) and w.text() == label:
                return w
        return None
