"""Choosing which documents a conversation answers from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.values import Document
from app.gui.safe_text import tooltip


class ScopeDialog(QDialog):
    """All documents, or only the ones ticked."""

    def __init__(self, documents: list[Document], chosen: list[str] | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Documents for this conversation")
        self.setAccessibleName(self.windowTitle())
        layout = QVBoxLayout(self)
        self.all_button = QRadioButton("Answer from &all documents in the library", self)
        self.some_button = QRadioButton("Answer only from the documents &ticked below", self)
        self.all_button.setChecked(chosen is None)
        self.some_button.setChecked(chosen is not None)
        layout.addWidget(self.all_button)
        layout.addWidget(self.some_button)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Documents to use")
        for d in documents:
            item = QListWidgetItem(d.name, self.list)
            item.setToolTip(tooltip(d.path))
            item.setData(Qt.ItemDataRole.UserRole, d.doc_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if chosen and d.doc_id in chosen else Qt.CheckState.Unchecked)
        self.list.itemChanged.connect(lambda _item: self.some_button.setChecked(True))
        layout.addWidget(self.list, 1)
        if not documents:
            layout.addWidget(QLabel("The library is empty: add documents first.", self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 70, self.fontMetrics().lineSpacing() * 24)

    def chosen(self) -> list[str] | None:
        """The ticked documents' ids, or None for all."""
        if self.all_button.isChecked():
            return None
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]
