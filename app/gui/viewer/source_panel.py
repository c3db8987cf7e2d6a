"""Shows a cited passage in its document: a PDF at its page with the passage highlighted, or the
text of any other format scrolled to the passage and selected."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPointF, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QTextCharFormat, QTextCursor
from PySide6.QtPdf import QPdfDocument, QPdfSearchModel
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.conversations import Citation
from app.core.sources import PDF, SourceLocation
from app.gui import theme


class SourcePanel(QWidget):
    """The document viewer beside the chat."""

    sig_closed = Signal()
    """Emitted when the user closes the viewer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.location: SourceLocation | None = None
        self.citation: Citation | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        head = QHBoxLayout()
        self.title = QLabel("Source", self)
        self.title.setFont(theme.scaled_font(self, 1.05, bold=True))
        self.title.setAccessibleName("Source document")
        self.title.setWordWrap(True)
        head.addWidget(self.title, 1)
        self.open_button = QPushButton("Open in system viewer", self)
        self.open_button.setAccessibleName("Open the document in the system viewer")
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.open_button.setEnabled(False)
        head.addWidget(self.open_button)
        layout.addLayout(head)
        self.where = QLabel("", self)
        self.where.setAccessibleName("Where the passage is")
        self.where.setWordWrap(True)
        layout.addWidget(self.where)
        self.quote = QLabel("", self)
        self.quote.setAccessibleName("Quoted passage")
        self.quote.setWordWrap(True)
        self.quote.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.quote.setVisible(False)
        layout.addWidget(self.quote)

        self.stack = QStackedWidget(self)
        self.placeholder = QLabel("Click a numbered source under an answer to read the passage here.", self)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.set_muted(self.placeholder)
        self.pdf_document = QPdfDocument(self)
        self.pdf_search = QPdfSearchModel(self)
        self.pdf_search.setDocument(self.pdf_document)
        self.pdf_view = QPdfView(self)
        self.pdf_view.setAccessibleName("PDF page")
        self.pdf_view.setDocument(self.pdf_document)
        self.pdf_view.setPageMode(QPdfView.PageMode.MultiPage)
        self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        # The search model is attached to the view only once its results are in: QPdfView paints
        # from it, and Qt 6.12 crashes painting a model whose search is still running.
        self.text_view = QTextBrowser(self)
        self.text_view.setAccessibleName("Document text")
        self.text_view.setOpenLinks(False)
        self.text_view.setFont(theme.scaled_font(self, 1.05))
        for w in (self.placeholder, self.pdf_view, self.text_view):
            self.stack.addWidget(w)
        layout.addWidget(self.stack, 1)
        self.pdf_search.countChanged.connect(self._on_pdf_search_count_changed)
        self._pending_page: int | None = None

    # -- showing ----------------------------------------------------------------------------

    def show_loading(self, citation: Citation) -> None:
        self.citation = citation
        self.title.setText(Path(citation.path).name)
        self.where.setText(f"Source {citation.n}" + (f" · {citation.label}" if citation.label else "") + " · opening…")
        self.quote.setVisible(False)

    def show_error(self, citation: Citation, message: str) -> None:
        self.citation = citation
        self.location = None
        self.title.setText(Path(citation.path).name)
        self.where.setText(f"<span style='color:{theme.error_color()}'>{html.escape(message)}</span>")
        self.quote.setText(f"The cited passage, as it was read: “{html.escape(' '.join(citation.text.split()))}”")
        self.quote.setVisible(True)
        self.open_button.setEnabled(Path(citation.path).exists())
        self.stack.setCurrentWidget(self.placeholder)

    def show_location(self, citation: Citation, loc: SourceLocation) -> None:
        self.citation, self.location = citation, loc
        self.title.setText(loc.path.name)
        self.open_button.setEnabled(True)
        where = f"Source {citation.n}" + (f" · {loc.label}" if loc.label else "")
        if not loc.exact:
            where += " · the file has changed since it was read; the passage is shown as it was"
        self.where.setText(where)
        self.quote.setVisible(False)
        if loc.kind == PDF:
            self._show_pdf(loc)
        else:
            self._show_text(loc)

    def _show_pdf(self, loc: SourceLocation) -> None:
        self.pdf_view.setSearchModel(None)
        self.pdf_search.setSearchString("")
        if self.pdf_document.status() != QPdfDocument.Status.Ready or self._pdf_path != loc.path:
            self.pdf_document.close()
            self.pdf_document.load(str(loc.path))
            self._pdf_path = loc.path
        page = max(0, (loc.page or 1) - 1)
        self._pending_page = page
        self.stack.setCurrentWidget(self.pdf_view)
        self.pdf_view.pageNavigator().jump(page, QPointF(0, 0), self.pdf_view.pageNavigator().currentZoom())
        self.pdf_search.setSearchString(loc.phrase)
        self.quote.setText(f"“{html.escape(' '.join(loc.text.split()))}”")
        self.quote.setVisible(True)

    _pdf_path: Path | None = None

    def _on_pdf_search_count_changed(self) -> None:
        """Highlight the first hit of the phrase on the cited page (or, failing that, anywhere)."""
        if self._pending_page is None or self.pdf_search.rowCount(QModelIndex()) == 0:
            return
        best = 0
        for row in range(self.pdf_search.rowCount(QModelIndex())):
            if self.pdf_search.resultAtIndex(row).page() == self._pending_page:
                best = row
                break
        link = self.pdf_search.resultAtIndex(best)
        self.pdf_view.setSearchModel(self.pdf_search)
        self.pdf_view.setCurrentSearchResultIndex(best)
        self.pdf_view.pageNavigator().jump(link)

    def _show_text(self, loc: SourceLocation) -> None:
        self.stack.setCurrentWidget(self.text_view)
        self.text_view.setPlainText(loc.text)
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(loc.start)
        cursor.setPosition(loc.end, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(self.palette().highlight())
        fmt.setForeground(self.palette().highlightedText())
        cursor.mergeCharFormat(fmt)  # stays marked when the selection moves
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()
        end = QTextCursor(self.text_view.document())
        end.setPosition(loc.start)
        self.text_view.setTextCursor(end)  # scroll so the passage starts in view …
        self.text_view.ensureCursorVisible()
        self.text_view.setTextCursor(cursor)  # … and keep it selected for copying

    def current_page(self) -> int:
        """The 1-based page the PDF view shows."""
        return self.pdf_view.pageNavigator().currentPage() + 1

    def _on_open_button_clicked(self) -> None:
        path = self.location.path if self.location else Path(self.citation.path) if self.citation else None
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
