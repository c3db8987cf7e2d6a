"""The library: every document with its state, adding and removing, and the progress of a batch."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.core.ingest.service import IngestProgress
from app.gui import theme
from app.gui.library.library_model import FAILED, SKIPPED, DetailRole, LibraryModel, PathRole, StateRole
from app.gui.tasks import user_message


class _DocumentDelegate(QStyledItemDelegate):
    """Two lines per document: its name, then its state (failures in the error colour)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        fm = option.fontMetrics
        return QSize(option.rect.width(), fm.lineSpacing() * 2 + 14)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text_color = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        rect = option.rect.adjusted(10, 6, -8, -6)
        fm = option.fontMetrics
        line = fm.lineSpacing()
        painter.save()
        name_font = theme.scaled_font(opt.widget, 1.0, bold=True) if opt.widget else option.font
        painter.setFont(name_font)
        painter.setPen(text_color)
        name = painter.fontMetrics().elidedText(index.data(), Qt.TextElideMode.ElideMiddle, rect.width())
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line), Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(option.font)
        state = index.data(StateRole)
        if state in (FAILED, SKIPPED) and not selected:
            painter.setPen(QColor(theme.error_color() if state == FAILED else theme.warn_color()))
        else:
            painter.setPen(text_color if selected else QColor(theme.muted_color()))
        detail = fm.elidedText(index.data(DetailRole), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(QRect(rect.left(), rect.top() + line, rect.width(), line), Qt.AlignmentFlag.AlignVCenter,
                         detail)
        painter.restore()


def eta_text(started: float, done: int, total: int, now: float | None = None) -> str:
    """'about 2 min left' once one file is done; '' before (no honest estimate yet)."""
    if done <= 0 or total <= done:
        return ""
    elapsed = (now or time.monotonic()) - started
    left = elapsed / done * (total - done)
    if left < 60:
        return "less than a minute left"
    minutes = round(left / 60)
    return f"about {minutes} min left" if minutes < 90 else f"about {left / 3600:.1f} h left"


class LibraryPanel(QWidget):
    """Lists the documents; adds, removes, shows and cancels ingestion."""

    sig_add_files = Signal()
    """Emitted when the user wants to pick files to add."""

    sig_add_folder = Signal()
    """Emitted when the user wants to pick a folder to add."""

    sig_remove = Signal(list)
    """Emitted with the paths (str) the user chose to remove."""

    sig_cancel = Signal()
    """Emitted when the user cancels the batch being read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LibraryModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        # Until the saved documents are read (opening the data can take seconds), the panel says
        # so: "No documents yet" on a full library would alarm.
        self.opening = True
        self.summary = QLabel("Opening your library…", self)
        self.summary.setAccessibleName("Library summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.opening_bar = QProgressBar(self)
        self.opening_bar.setAccessibleName("Opening the library")
        self.opening_bar.setRange(0, 0)  # busy: there is no count to show
        self.opening_bar.setTextVisible(False)
        self.opening_bar.setMaximumHeight(6)
        layout.addWidget(self.opening_bar)
        buttons = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…", self)
        self.add_files_button.setAccessibleName("Add files")
        self.add_files_button.setToolTip("Add files to the library (Ctrl+O)")
        self.add_files_button.clicked.connect(self.sig_add_files)
        self.add_folder_button = QPushButton("Add folder…", self)
        self.add_folder_button.setAccessibleName("Add folder")
        self.add_folder_button.clicked.connect(self.sig_add_folder)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setAccessibleName("Remove selected documents")
        self.remove_button.setToolTip("Remove the selected documents from the library (the files stay on disk)")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        for b in (self.add_files_button, self.add_folder_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.progress_box = QWidget(self)
        prow = QVBoxLayout(self.progress_box)
        prow.setContentsMargins(0, 4, 0, 4)
        self.progress_label = QLabel("", self.progress_box)
        self.progress_label.setAccessibleName("Reading progress")
        self.progress_label.setWordWrap(True)
        bar_row = QHBoxLayout()
        self.progress_bar = QProgressBar(self.progress_box)
        self.progress_bar.setAccessibleName("Reading progress bar")
        self.cancel_button = QPushButton("Cancel", self.progress_box)
        self.cancel_button.setAccessibleName("Cancel reading documents")
        self.cancel_button.clicked.connect(self.sig_cancel)
        bar_row.addWidget(self.progress_bar, 1)
        bar_row.addWidget(self.cancel_button)
        prow.addWidget(self.progress_label)
        prow.addLayout(bar_row)
        self.progress_box.setVisible(False)
        layout.addWidget(self.progress_box)

        self.view = QListView(self)
        self.view.setAccessibleName("Documents")
        self.view.setModel(self.model)
        self.view.setItemDelegate(_DocumentDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setUniformItemSizes(True)
        # Names are elided to the column's width (see the delegate): no sideways scrolling, and the
        # rows are laid out again when the column narrows.
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        layout.addWidget(self.view, 1)
        self.details = QLabel("", self)
        self.details.setAccessibleName("Document details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setVisible(False)
        self.details.setMinimumWidth(1)  # a long path must not widen the column: it wraps at "/"
        layout.addWidget(self.details)
        # Under the list, beside what it acts on: the panel stays narrow enough for a narrow window.
        remove_row = QHBoxLayout()
        remove_row.addWidget(self.remove_button)
        remove_row.addStretch(1)
        layout.addLayout(remove_row)
        self.remove_button.setShortcut(QKeySequence())  # Delete stays with the conversation list
        self._started = 0.0
        self.model.modelReset.connect(self._refresh_summary)
        self.model.dataChanged.connect(self._refresh_summary)

    # -- opening ----------------------------------------------------------------------------

    def set_opened(self, error: str | None = None) -> None:
        """The saved documents were read (and are in the model), or could not be: say which."""
        self.opening = False
        self.opening_bar.setVisible(False)
        if error:
            self.summary.setText(f"<span style='color:{theme.error_color()}'>The library could not be read: "
                                 f"{html.escape(error)}</span>")
        else:
            self._refresh_summary()

    # -- progress ---------------------------------------------------------------------------

    def begin_batch(self) -> None:
        self._started = time.monotonic()
        self.progress_bar.setRange(0, 0)  # busy until the files are counted
        self.progress_label.setText("Looking at the files…")
        self.cancel_button.setEnabled(True)
        self.progress_box.setVisible(True)

    def show_progress(self, p: IngestProgress) -> None:
        if p.total <= 0:
            return
        self.progress_bar.setRange(0, p.total)
        self.progress_bar.setValue(p.done)
        eta = eta_text(self._started, p.done, p.total)
        text = f"Reading {min(p.done + 1, p.total)} of {p.total}"
        if p.current is not None:
            text += f": {p.current.name}"
        self.progress_label.setText(text + (f" — {eta}" if eta else ""))

    def end_batch(self, summary: dict) -> str:
        """Hide the progress; returns a one-line report of the batch."""
        self.progress_box.setVisible(False)
        parts = []
        if summary.get("ingested"):
            parts.append(f"{summary['ingested']} added")
        if summary.get("unchanged"):
            parts.append(f"{summary['unchanged']} unchanged")
        if summary.get("failed"):
            parts.append(f"{summary['failed']} could not be read")
        report = ", ".join(parts) or "nothing new"
        if summary.get("cancelled"):
            report = "Stopped. " + report
        if summary.get("error"):
            report = f"Reading stopped: {user_message(summary['error'])}"
        return report

    def set_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.progress_label.setText("Stopping after the current file…")

    # -- selection --------------------------------------------------------------------------

    def selected_paths(self) -> list[str]:
        return [i.data(PathRole) for i in self.view.selectionModel().selectedIndexes()]

    def _on_view_selection_changed(self, *_: object) -> None:
        indexes = self.view.selectionModel().selectedIndexes()
        self.remove_button.setEnabled(bool(indexes))
        if len(indexes) == 1:
            i = indexes[0]
            color = theme.error_color() if i.data(StateRole) == FAILED else None
            detail = html.escape(i.data(DetailRole))
            styled = f"<span style='color:{color}'>{detail}</span>" if color else detail
            self.details.setText(f"<b>{html.escape(i.data(Qt.ItemDataRole.DisplayRole))}</b><br>{styled}<br>"
                                 f"<small>{html.escape(i.data(PathRole)).replace('/', '/&#8203;')}</small>")
            self.details.setVisible(True)
        else:
            self.details.setVisible(False)

    def _on_remove_button_clicked(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.sig_remove.emit(paths)

    def _refresh_summary(self, *_: object) -> None:
        ready = self.model.count("ready", "unchanged")
        failed = self.model.count(FAILED)
        if self.opening and not self.model.rows:
            return  # still "Opening your library…"
        if not self.model.rows:
            self.summary.setText("No documents yet. Drop files or folders on the window, or add them here.")
            return
        text = f"{ready} document{'s' if ready != 1 else ''} ready"
        if failed:
            text += f" · <span style='color:{theme.error_color()}'>{failed} could not be read</span>"
        self.summary.setText(text)
