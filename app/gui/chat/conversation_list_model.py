"""The conversations in the side list, as a Qt item model (renamable in place)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from app.core.values import Conversation
from app.gui.safe_text import tooltip

ConvIdRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def _when(ts: float) -> str:
    days = (time.time() - ts) / 86400
    if days < 1:
        return time.strftime("Today %H:%M", time.localtime(ts))
    if days < 7:
        return time.strftime("%A", time.localtime(ts))
    return time.strftime("%d %b %Y", time.localtime(ts))


class ConversationListModel(QAbstractListModel):
    """Conversations, most recent first."""

    sig_renamed = Signal(str, str)
    """Emitted with (conversation id, new title) after an edit in place."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.items: list[Conversation] = []

    def set_conversations(self, items: list[Conversation]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def row_of(self, conv_id: str) -> int:
        return next((i for i, c in enumerate(self.items) if c.conv_id == conv_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        c = self.items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return c.title
        if role == Qt.ItemDataRole.ToolTipRole:
            scope = "" if c.doc_ids is None else f" · uses {len(c.doc_ids)} chosen document(s)"
            return tooltip(f"{c.title}\nLast used {_when(c.updated_at)}{scope}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{c.title}, last used {_when(c.updated_at)}"
        if role == ConvIdRole:
            return c.conv_id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        title = " ".join(str(value).split())
        old = self.items[index.row()]
        if not title or title == old.title:
            return False
        self.items[index.row()] = dataclasses.replace(old, title=title)
        self.dataChanged.emit(index, index)
        self.sig_renamed.emit(old.conv_id, title)
        return True
