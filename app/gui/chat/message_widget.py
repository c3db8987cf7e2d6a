"""One turn of the conversation on screen: a question, or an answer with its evidence and sources."""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.values import USER, Citation, EvidenceQuote
from app.gui import theme
from app.gui.safe_text import markdown_html, tooltip

NOT_SUPPORTED = "Not found in your documents — check before relying on it."
NOT_SUPPORTED_DETAIL = ("The facts in this answer could not be found in the passages it cites. "
                        "Read the sources yourself before you act on it.")


def chip_text(c: Citation) -> str:
    if c.removed:
        return f"{c.n}  source removed"
    name = Path(c.path).name
    return f"{c.n}  {name} · {c.label}" if c.label else f"{c.n}  {name}"


def _clock(ts: float) -> str:
    return time.strftime("%H:%M" if time.time() - ts < 20 * 3600 else "%d %b %H:%M", time.localtime(ts))


class EvidenceQuoteLabel(QLabel):
    """One supporting sentence, verbatim, with "— file, page" after it; clicking it shows it in place."""

    sig_clicked = Signal()
    """Emitted when the quote is clicked, or Enter/Space is pressed on it."""

    def __init__(self, evidence: EvidenceQuote, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evidence = evidence
        self.setObjectName("EvidenceQuote")
        sentence = html.escape(" ".join(evidence.text.split()))
        where = html.escape(evidence.where())
        self.setText(f"“{sentence}”&nbsp;<span style='color:{theme.muted_color()}'>— {where}</span>")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)  # for the stylesheet's :hover
        self.setToolTip(tooltip(f"Show this sentence in {Path(evidence.path).name}"))
        self.setAccessibleName(f"Quote from {evidence.where()}")
        self.setAccessibleDescription(f"{evidence.text} Press Enter to show it in the document.")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.sig_clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.sig_clicked.emit()
            return
        super().keyPressEvent(event)


class MessageWidget(QFrame):
    """A question or an answer; answers show numbered source chips and Copy / Regenerate."""

    sig_citation_clicked = Signal(object)
    """Emitted with the Citation whose chip was clicked."""

    sig_evidence_clicked = Signal(object, str)
    """Emitted with the Citation a clicked evidence sentence comes from, and the quote to highlight."""

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
        self.evidence: list[EvidenceQuote] = []
        self.supported: bool | None = None
        self.msg_id: str | None = None
        self._chips: list[QPushButton] = []
        self._quotes: list[EvidenceQuoteLabel] = []
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
        # Answers are Markdown, rendered by us with raw HTML off and no images (app.gui.safe_text):
        # a QLabel's own Markdown would load any picture an answer names.
        self.body.setTextFormat(Qt.TextFormat.PlainText if is_user else Qt.TextFormat.RichText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.body.setFont(theme.scaled_font(self, 1.08))
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.body)

        # A reasoning model's thinking: folded away under the answer, never part of it.
        self.reasoning_button = QPushButton("", self)
        self.reasoning_button.setAccessibleName("Show the model's reasoning")
        self.reasoning_button.setFlat(True)
        self.reasoning_button.setCheckable(True)
        self.reasoning_button.setVisible(False)
        self.reasoning_button.toggled.connect(self._on_reasoning_toggled)
        self.reasoning = QLabel(self)
        self.reasoning.setObjectName("Reasoning")
        self.reasoning.setAccessibleName("The model's reasoning")
        self.reasoning.setWordWrap(True)
        self.reasoning.setTextFormat(Qt.TextFormat.PlainText)
        self.reasoning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.set_muted(self.reasoning)
        self.reasoning.setVisible(False)
        layout.addWidget(self.reasoning_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.reasoning)

        # An answer whose facts were not found in its sources says so in words, under the answer.
        self.verdict = QLabel(self)
        self.verdict.setObjectName("UnsupportedNote")
        self.verdict.setAccessibleName("Warning")
        self.verdict.setWordWrap(True)
        self.verdict.setVisible(False)
        layout.addWidget(self.verdict)

        self.evidence_box = QWidget(self)
        self.evidence_box.setAccessibleName("Where the answer comes from")
        self.evidence_layout = QVBoxLayout(self.evidence_box)
        self.evidence_layout.setContentsMargins(0, 2, 0, 0)
        self.evidence_layout.setSpacing(6)
        self.evidence_box.setVisible(False)
        layout.addWidget(self.evidence_box)

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
        self.copy_button.clicked.connect(lambda: self.sig_copy.emit(self.copy_text()))
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
        rich = self.body.textFormat() == Qt.TextFormat.RichText
        self.body.setText(markdown_html(self.text, self.body.font()) if rich and self.text else self.text)
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

    def set_reasoning(self, text: str) -> None:
        """Keep a reasoning model's thinking under the answer, folded (not part of the answer)."""
        self.reasoning.setText(text)
        self._words = len(text.split())
        self.reasoning_button.setVisible(bool(text))
        self._on_reasoning_toggled(self.reasoning_button.isChecked())

    def _on_reasoning_toggled(self, shown: bool) -> None:
        words = getattr(self, "_words", 0)
        self.reasoning_button.setText(f"{'▾' if shown else '▸'} The model's reasoning ({words} words, "
                                      "not part of the answer)")
        self.reasoning.setVisible(shown and bool(self.reasoning.text()))

    def set_status(self, text: str, *, kind: str = "info") -> None:
        """A line under the answer: progress ("waiting"), "stopped" or "error"."""
        color = {"error": theme.error_color(), "stopped": theme.warn_color()}.get(kind)
        self.status.setStyleSheet(f"color: {color};" if color else "")
        self.status.setProperty("phase", kind)
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_evidence(self, evidence: list[EvidenceQuote], *, supported: bool | None) -> None:
        """Show the supporting sentences under the answer, and a warning when it is not supported.

        Args:
            evidence: The sentences of the cited passages that hold the answer's facts.
            supported: False marks the answer as not found in the documents; True or None
                (nothing to check, e.g. the answer says the documents don't cover it) do not.
        """
        _clear(self.evidence_layout)
        self.evidence, self.supported = list(evidence), supported
        self._quotes = []
        for e in evidence:
            quote = EvidenceQuoteLabel(e, self.evidence_box)
            quote.sig_clicked.connect(lambda ev=e: self._on_quote_clicked(ev))
            self.evidence_layout.addWidget(quote)
            self._quotes.append(quote)
        self.evidence_box.setVisible(bool(evidence))
        unsupported = supported is False
        self.verdict.setText(f"<b>⚠ {html.escape(NOT_SUPPORTED)}</b>" if unsupported else "")
        self.verdict.setToolTip(NOT_SUPPORTED_DETAIL if unsupported else "")
        self.verdict.setAccessibleDescription(NOT_SUPPORTED_DETAIL if unsupported else "")
        self.verdict.setVisible(unsupported)
        self.setProperty("unsupported", unsupported)  # the bubble's border follows (app stylesheet)
        self.style().unpolish(self)
        self.style().polish(self)

    def copy_text(self) -> str:
        """The answer as copied: a warning travels with an answer not found in the documents."""
        return f"{self.text}\n\n({NOT_SUPPORTED})" if self.supported is False and self.text else self.text

    def quotes(self) -> list[EvidenceQuoteLabel]:
        return list(self._quotes)

    def _on_quote_clicked(self, e: EvidenceQuote) -> None:
        cited = next((c for c in self.citations if c.n == e.n and c.path == e.path), None)
        if cited is None:  # shown on its own: the quote is found in the file by itself
            cited = Citation(n=e.n, path=e.path, page=e.page, label=e.label, text=e.quote or e.text)
        self.sig_evidence_clicked.emit(cited, e.quote or e.text)

    def set_citations(self, citations: list[Citation]) -> None:
        """Show one chip per cited passage: number, file and page; the quote in the tooltip."""
        _clear(self.sources_layout)
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
            chip.setToolTip(tooltip(f"“{quote[:400]}{'…' if len(quote) > 400 else ''}”"))
            if c.removed:  # nothing of it is kept: nothing to open
                chip.setEnabled(False)
                chip.setAccessibleName(f"Source {c.n}: removed")
                chip.setToolTip("This document was removed from the library; its passages were deleted "
                                "from this conversation too.")
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


def _clear(layout: QVBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item.widget():
            item.widget().hide()
            item.widget().setParent(None)  # gone from the tree now, freed later
            item.widget().deleteLater()
