"""One turn of the conversation on screen: a question, or an answer with its sources."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.conversations import USER, Citation
from app.gui import theme


def chip_text(c: Citation) -> str:
    name = Path(c.path).name
    return f"{c.n}  {name} · {c.label}" if c.label else f"{c.n}  {name}"


def _clock(ts: float) -> str:
    return time.strftime("%H:%M" if time.time() - ts < 20 * 3600 else "%d %b %H:%M", time.localtime(ts))


class MessageWidget(QFrame):
    """A question or an answer; answers show numbered source chips and Copy / Regenerate."""

    sig_citation_clicked = Signal(object)
    """Emitted with the Citation whose chip was clicked."""

    sig_copy = Signal(str)
    """Emitted with the answer's text when Copy is clicked."""

    sig_regenerate = Signal()
    """Emitted when Regenerate is clicked."""

    def __init__(self, role: str, text: str = "", *, created_at: float | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.text = text
        self.citations: list[Citation] = []
        self.msg_id: str | None = None
        self._chips: list[QPushButton] = []
        is_user = role == USER
        self.setObjectName("UserBubble" if is_user else "AnswerBubble")
        self.setAccessibleName("Your question" if is_user else "Answer")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(6)
        head = QHBoxLayout()
        who = QLabel("You" if is_user else "Sanctum", self)
        who.setFont(theme.scaled_font(self, 0.95, bold=True))
        head.addWidget(who)
        head.addStretch(1)
        self.when = QLabel(_clock(created_at or time.time()), self)
        theme.set_muted(self.when)
        head.addWidget(self.when)
        layout.addLayout(head)

        self.body = QLabel(self)
        self.body.setObjectName("MessageText")
        self.body.setAccessibleName("Question text" if is_user else "Answer text")
        self.body.setTextFormat(Qt.TextFormat.PlainText if is_user else Qt.TextFormat.MarkdownText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.body.setFont(theme.scaled_font(self, 1.08))
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.body)

        self.status = QLabel("", self)  # "Searching your documents…", "Stopped", errors
        self.status.setAccessibleName("Answer status")
        self.status.setWordWrap(True)
        self.status.setVisible(False)
        layout.addWidget(self.status)

        self.sources_box = QWidget(self)
        self.sources_layout = QVBoxLayout(self.sources_box)
        self.sources_layout.setContentsMargins(0, 4, 0, 0)
        self.sources_layout.setSpacing(4)
        self.sources_box.setVisible(False)
        layout.addWidget(self.sources_box)

        self.actions = QWidget(self)
        row = QHBoxLayout(self.actions)
        row.setContentsMargins(0, 0, 0, 0)
        self.copy_button = QPushButton("Copy", self.actions)
        self.copy_button.setAccessibleName("Copy answer")
        self.copy_button.setFlat(True)
        self.copy_button.clicked.connect(lambda: self.sig_copy.emit(self.text))
        self.regen_button = QPushButton("Regenerate", self.actions)
        self.regen_button.setAccessibleName("Regenerate answer")
        self.regen_button.setFlat(True)
        self.regen_button.clicked.connect(self.sig_regenerate)
        row.addWidget(self.copy_button)
        row.addWidget(self.regen_button)
        row.addStretch(1)
        self.actions.setVisible(False)
        layout.addWidget(self.actions)
        self._render()

    # -- content ----------------------------------------------------------------------------

    def _render(self) -> None:
        self.body.setText(self.text)
        self.body.setVisible(bool(self.text))

    def append_text(self, chunk: str) -> None:
        """Add streamed text (the whole answer is re-rendered: Markdown needs the context)."""
        self.text += chunk
        self._render()
        if self.status.isVisible() and self.status.property("phase") == "waiting":
            self.status.setVisible(False)

    def set_text(self, text: str) -> None:
        self.text = text
        self._render()

    def set_status(self, text: str, *, kind: str = "info") -> None:
        """A line under the answer: progress ("waiting"), "stopped" or "error"."""
        color = {"error": theme.error_color(), "stopped": theme.warn_color()}.get(kind)
        self.status.setStyleSheet(f"color: {color};" if color else "")
        self.status.setProperty("phase", kind)
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_citations(self, citations: list[Citation]) -> None:
        """Show one chip per cited passage: number, file and page; the quote in the tooltip."""
        while self.sources_layout.count():
            item = self.sources_layout.takeAt(0)
            if item.widget():
                item.widget().hide()
                item.widget().setParent(None)  # gone from the tree now, freed later
                item.widget().deleteLater()
        self.citations = list(citations)
        self._chips: list[QPushButton] = []
        if citations:
            title = QLabel("Sources — click one to read the passage in its document", self.sources_box)
            theme.set_muted(title)
            self.sources_layout.addWidget(title)
        for c in citations:
            chip = QPushButton(chip_text(c), self.sources_box)
            chip.setObjectName("CitationChip")
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.setAccessibleName(f"Source {c.n}: {Path(c.path).name}" + (f", {c.label}" if c.label else ""))
            quote = " ".join(c.text.split())
            chip.setToolTip(f"“{quote[:400]}{'…' if len(quote) > 400 else ''}”")
            chip.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            chip.clicked.connect(lambda _=False, cite=c: self.sig_citation_clicked.emit(cite))
            self.sources_layout.addWidget(chip, 0, Qt.AlignmentFlag.AlignLeft)
            self._chips.append(chip)
        self.sources_box.setVisible(bool(citations))

    def chips(self) -> list[QPushButton]:
        return list(self._chips)

    def finish(self, *, can_regenerate: bool) -> None:
        """The answer is complete (or stopped): offer Copy and Regenerate."""
        self.actions.setVisible(self.role != USER)
        self.copy_button.setEnabled(bool(self.text))
        self.regen_button.setVisible(can_regenerate)
