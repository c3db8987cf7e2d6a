"""The side list of saved conversations: new, open, rename, delete."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.values import Conversation
from app.gui import theme
from app.gui.chat.conversation_list_model import ConversationListModel, ConvIdRole


class ConversationListPanel(QWidget):
    """Lists conversations; the selected one is shown in the chat panel."""

    sig_new = Signal()
    """Emitted when the user starts a new conversation."""

    sig_selected = Signal(str)
    """Emitted with a conversation id when the user opens it."""

    sig_renamed = Signal(str, str)
    """Emitted with (conversation id, title)."""

    sig_deleted = Signal(str)
    """Emitted with the id of a conversation the user confirmed deleting."""

    sig_export = Signal(str)
    """Emitted with the id of a conversation the user wants to export."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConversationListModel(self)
        self.model.sig_renamed.connect(self.sig_renamed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 6, 12)
        layout.setSpacing(8)
        self.new_button = QPushButton("+  New conversation", self)
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.sig_new)
        layout.addWidget(self.new_button)
        heading = QLabel("Conversations", self)
        heading.setFont(theme.scaled_font(self, 0.95, bold=True))
        layout.addWidget(heading)
        self.view = QListView(self)
        self.view.setAccessibleName("Conversations")
        self.view.setModel(self.model)
        self.view.setUniformItemSizes(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setSpacing(2)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setWordWrap(False)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.selectionModel().currentChanged.connect(self._on_selection_current_changed)
        heading.setBuddy(self.view)
        layout.addWidget(self.view, 1)
        self.rename_action = QAction("Rename", self, shortcut=QKeySequence(Qt.Key.Key_F2),
                                     shortcutContext=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action = QAction("Delete…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Delete),
                                     shortcutContext=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(self.delete_current)
        self.export_action = QAction("Export…", self)
        self.export_action.triggered.connect(self.export_current)
        self.view.addActions([self.rename_action, self.delete_action])
        self._silent = False

    def set_conversations(self, items: list[Conversation], current: str | None) -> None:
        self._silent = True
        try:
            self.model.set_conversations(items)
            row = self.model.row_of(current) if current else -1
            if row >= 0:
                self.view.setCurrentIndex(self.model.index(row))
        finally:
            self._silent = False

    def current_id(self) -> str | None:
        index = self.view.currentIndex()
        return index.data(ConvIdRole) if index.isValid() else None

    def _on_selection_current_changed(self, current, _previous) -> None:  # noqa: ANN001
        if not self._silent and current.isValid():
            self.sig_selected.emit(current.data(ConvIdRole))

    def _on_view_context_menu(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        self.view.setCurrentIndex(self.view.indexAt(pos))
        self.context_menu().exec(self.view.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        """The menu of the current conversation: rename, export, delete."""
        menu = QMenu(self)
        menu.addAction(self.rename_action)
        menu.addAction(self.export_action)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        return menu

    def export_current(self) -> None:
        conv_id = self.current_id()
        if conv_id:
            self.sig_export.emit(conv_id)

    def rename_current(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.view.edit(index)

    def delete_current(self) -> None:
        index = self.view.currentIndex()
        if not index.isValid():
            return
        title = index.data(Qt.ItemDataRole.DisplayRole)
        answer = QMessageBox.question(
            self, "Delete conversation",
            f"Delete “{title}” and all its messages? This cannot be undone.\n\nYour documents are not affected.",
            QMessageBox.StandardButton.Delete | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Delete:
            self.sig_deleted.emit(index.data(ConvIdRole))
