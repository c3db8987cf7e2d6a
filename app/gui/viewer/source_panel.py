"""Shows a cited passage in its document: a PDF at its page with every line of the passage marked,
or the text of any other format scrolled to the passage and marked. When an evidence sentence
was clicked, that sentence is marked strongly and the rest of its passage lightly."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPointF, QRect, QRectF, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPolygonF,
    QTextCharFormat,
    QTextCursor,
)
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

from app.core.answer.sources import PDF, SourceLocation, find_span
from app.core.values import Citation
from app.gui import theme
from app.gui.safe_text import plain, tooltip

# A highlighter's yellow: PDF pages are painted white in either theme, so fixed tints read on both.
MARK_STRONG = QColor(255, 196, 0, 120)
MARK_LIGHT = QColor(255, 196, 0, 48)


class PassagePdfView(QPdfView):
    """A PDF view that marks a passage on its page: every line of it, not only a searchable phrase.

    QPdfView draws only search results, and a text search matches within one line; so the marks
    are painted here over the page, at the page's place in the view (laid out as QPdfView lays
    out pages: see :meth:`page_rect`).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.marks: list[tuple[int, list[QPolygonF], QColor]] = []  # (page, polygons in points, colour)

    def set_marks(self, marks: list[tuple[int, list[QPolygonF], QColor]]) -> None:
        self.marks = marks
        self.viewport().update()

    def _page_sizes(self) -> list[QSize]:
        """Each page's size on screen (as QPdfView computes it for the zoom mode)."""
        doc = self.document()
        if doc is None or doc.status() != QPdfDocument.Status.Ready:
            return []
        screen = QGuiApplication.primaryScreen()
        resolution = screen.logicalDotsPerInch() / 72.0 if screen else 1.0
        margins, width = self.documentMargins(), self.viewport().width()
        sizes = []
        for page in range(doc.pageCount()):
            points = doc.pagePointSize(page)
            if self.zoomMode() == QPdfView.ZoomMode.Custom:
                size = (points * resolution * self.zoomFactor()).toSize()
            else:
                size = (points * resolution).toSize()
                factor = (width - margins.left() - margins.right()) / max(1, size.width())
                size = QSize(_round(size.width() * factor), _round(size.height() * factor))
            sizes.append(size)
        return sizes

    def page_rect(self, page: int) -> QRect:
        """Where ``page`` is drawn, in viewport coordinates (MultiPage: pages stacked, centred)."""
        sizes = self._page_sizes()
        if not 0 <= page < len(sizes):
            return QRect()
        margins = self.documentMargins()
        total = max(s.width() for s in sizes) + margins.left() + margins.right()
        y = margins.top() + sum(s.height() + self.pageSpacing() for s in sizes[:page])
        x = (max(total, self.viewport().width()) - sizes[page].width()) // 2
        return QRect(x, y, sizes[page].width(), sizes[page].height()).translated(
            -self.horizontalScrollBar().value(), -self.verticalScrollBar().value())

    def mark_rects(self) -> list[tuple[QRectF, QColor]]:
        """The marks as rectangles in viewport coordinates."""
        out = []
        doc = self.document()
        for page, polygons, colour in self.marks:
            rect = self.page_rect(page)
            if rect.isEmpty() or doc is None:
                continue
            points = doc.pagePointSize(page)
            sx, sy = rect.width() / points.width(), rect.height() / points.height()
            for poly in polygons:
                r = poly.boundingRect()
                out.append((QRectF(rect.x() + r.x() * sx, rect.y() + r.y() * sy, r.width() * sx, r.height() * sy)
                            .adjusted(-1, -1, 1, 1), colour))
        return out

    def scroll_to_marks(self) -> None:
        """Scroll so the first mark sits a quarter down the view (the text above it stays in sight)."""
        rects = self.mark_rects()
        if rects:
            top = min(r.top() for r, _ in rects) + self.verticalScrollBar().value()
            self.verticalScrollBar().setValue(int(top - self.viewport().height() * 0.25))

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.marks:
            return
        painter = QPainter(self.viewport())
        for rect, colour in self.mark_rects():
            painter.fillRect(rect, colour)
        painter.end()


def _quoted(passage: str, highlight: str) -> str:
    """The passage on one line, in quotes, as rich text; ``highlight`` (a sentence of it) in bold."""
    span = find_span(passage, highlight) if highlight else None
    if span is None:
        return f"“{html.escape(' '.join(passage.split()))}”"
    before, middle, after = (" ".join(t.split()) for t in (passage[:span[0]], passage[span[0]:span[1]],
                                                            passage[span[1]:]))
    return f"“{html.escape(before)} <b>{html.escape(middle)}</b> {html.escape(after)}”".replace("“ ", "“").replace(
        " ”", "”")


def _round(x: float) -> int:
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


class SourcePanel(QWidget):
    """The document viewer beside the chat."""

    sig_closed = Signal()
    """Emitted when the user closes the viewer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.location: SourceLocation | None = None
        self.citation: Citation | None = None
        self.highlight = ""  # the evidence quote to mark strongly, if one was clicked
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        head = QHBoxLayout()
        self.title = QLabel("Source", self)
        self.title.setFont(theme.scaled_font(self, 1.05, bold=True))
        self.title.setAccessibleName("Source document")
        self.title.setWordWrap(True)
        plain(self.title)  # a file name is shown as it is, never read as HTML (app.gui.safe_text)
        self.title.setMinimumWidth(1)  # a long file name must not widen the column
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
        for label in (self.where, self.quote):
            label.setMinimumWidth(1)
            label.setTextFormat(Qt.TextFormat.RichText)  # built from escaped pieces only
        layout.addWidget(self.quote)

        self.stack = QStackedWidget(self)
        self.placeholder = QLabel("Click a numbered source under an answer to read the passage here.", self)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.set_muted(self.placeholder)
        self.pdf_document = QPdfDocument(self)
        self.pdf_search = QPdfSearchModel(self)
        self.pdf_search.setDocument(self.pdf_document)
        self.pdf_view = PassagePdfView(self)
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

    def show_loading(self, citation: Citation, quote: str = "") -> None:
        self.citation, self.highlight = citation, quote
        self.title.setText(Path(citation.path).name)
        self.title.setToolTip(tooltip(citation.path))
        self.where.setText(html.escape(f"Source {citation.n}" + (f" · {citation.label}" if citation.label else "")
                                       + " · opening…"))
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

    def show_location(self, citation: Citation, loc: SourceLocation, quote: str = "") -> None:
        """Show the passage ``loc`` points to; ``quote`` (a sentence of it) is marked strongly."""
        self.citation, self.location, self.highlight = citation, loc, quote
        self.title.setText(loc.path.name)
        self.open_button.setEnabled(True)
        where = f"Source {citation.n}" + (f" · {loc.label}" if loc.label else "")
        if not loc.exact:
            where += " · the file has changed since it was read; the passage is shown as it was"
        self.where.setText(html.escape(where))
        self.quote.setVisible(False)
        if loc.kind == PDF:
            self._show_pdf(loc)
        else:
            self._show_text(loc)

    def _show_pdf(self, loc: SourceLocation) -> None:
        self.pdf_view.setSearchModel(None)
        self.pdf_view.set_marks([])
        self.pdf_search.setSearchString("")
        if self.pdf_document.status() != QPdfDocument.Status.Ready or self._pdf_path != loc.path:
            self.pdf_document.close()
            self.pdf_document.load(str(loc.path))
            self._pdf_path = loc.path
        page = max(0, (loc.page or 1) - 1)
        self._pending_page = page
        self.stack.setCurrentWidget(self.pdf_view)
        self.pdf_view.pageNavigator().jump(page, QPointF(0, 0), self.pdf_view.pageNavigator().currentZoom())
        self.quote.setText(_quoted(loc.text, self.highlight))
        self.quote.setVisible(True)
        marks = self._pdf_marks(loc.text, self.highlight, page)
        if marks:
            self._pending_page = None
            self.pdf_view.set_marks(marks)
            self.pdf_view.scroll_to_marks()
            QTimer.singleShot(0, self.pdf_view.scroll_to_marks)  # again once the view has its final size
        else:  # not in the page's text layer as read: find its first line with Qt's text search
            self.pdf_search.setSearchString(loc.phrase)

    def _pdf_marks(self, passage: str, quote: str, page: int) -> list[tuple[int, list[QPolygonF], QColor]]:
        """The passage's (and the quote's) outlines on the cited page, or the nearest page holding it."""
        count = self.pdf_document.pageCount()
        order = sorted(range(count), key=lambda p: (abs(p - page), p))[:50]
        for p in order:
            text = self.pdf_document.getAllText(p).text()
            span = find_span(text, passage)
            strong = find_span(text, quote, near=span[0] if span else 0) if quote else None
            if span is None and strong is None:
                continue
            marks = []
            if span is not None:
                marks.append((p, self._outline(p, span), MARK_LIGHT if strong else MARK_STRONG))
            if strong is not None:
                marks.append((p, self._outline(p, strong), MARK_STRONG))
            return marks
        return []

    def _outline(self, page: int, span: tuple[int, int]) -> list[QPolygonF]:
        return list(self.pdf_document.getSelectionAtIndex(page, span[0], span[1] - span[0]).bounds())

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
        strong = None
        if self.highlight:
            start = loc.text.find(self.highlight, loc.start)
            strong = ((start, start + len(self.highlight)) if 0 <= start < loc.end
                      else find_span(loc.text, self.highlight, near=loc.start))
        self._mark_text(loc.start, loc.end, MARK_LIGHT if strong else None)
        first = strong or (loc.start, loc.end)
        if strong:
            self._mark_text(*strong, None)
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(first[1])
        self.text_view.setTextCursor(cursor)  # scroll so the passage's last line is in view …
        self.text_view.ensureCursorVisible()
        cursor.setPosition(first[0], QTextCursor.MoveMode.KeepAnchor)
        self.text_view.setTextCursor(cursor)  # … then its first, and keep it selected for copying
        self.text_view.ensureCursorVisible()

    def _mark_text(self, start: int, end: int, colour: QColor | None) -> None:
        """Mark ``start:end`` (every line of it) with a background: ``colour``, or the selection's."""
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        if colour is None:
            fmt.setBackground(self.palette().highlight())
            fmt.setForeground(self.palette().highlightedText())
        else:
            tint = QColor(self.palette().highlight().color())
            tint.setAlpha(60)
            fmt.setBackground(tint)
        cursor.mergeCharFormat(fmt)

    def marked_text(self) -> list[str]:
        """The runs of the text view that are marked (strongly), in order — for tests and checks."""
        runs: list[str] = []
        strong = self.palette().highlight().color()
        block = self.text_view.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.isValid() and frag.charFormat().background().color() == strong:
                    runs.append(frag.text())
                it += 1
            block = block.next()
        return runs

    def current_page(self) -> int:
        """The 1-based page the PDF view shows."""
        return self.pdf_view.pageNavigator().currentPage() + 1

    def _on_open_button_clicked(self) -> None:
        path = self.location.path if self.location else Path(self.citation.path) if self.citation else None
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
