"""The documents in the library, as a Qt item model: saved ones and those being read right now."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from app.core.ingest.service import FileOutcome, IngestProgress
from app.core.values import Document
from app.gui.safe_text import tooltip

QUEUED, INDEXING, READY, UNCHANGED, FAILED, SKIPPED = "queued", "indexing", "ready", "unchanged", "failed", "skipped"
PathRole = Qt.ItemDataRole.UserRole + 1
StateRole = Qt.ItemDataRole.UserRole + 2
DetailRole = Qt.ItemDataRole.UserRole + 3
Index = QModelIndex | QPersistentModelIndex
_STAGES = {"checking": "Checking…", "reading": "Reading the text…", "chunking": "Splitting into passages…",
           "embedding": "Indexing…", "storing": "Saving…"}


@dataclass(frozen=True)
class LibraryRow:
    path: str
    state: str
    detail: str | None = None
    pages: int | None = None
    chunks: int = 0
    doc_id: str | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    def summary(self) -> str:
        """The second line under the file name."""
        counts = []
        if self.pages:
            counts.append(f"{self.pages} page{'s' if self.pages != 1 else ''}")
        if self.chunks:
            counts.append(f"{self.chunks} passage{'s' if self.chunks != 1 else ''}")
        tail = (" · " + " · ".join(counts)) if counts else ""
        if self.state == READY:
            return "Ready" + tail
        if self.state == UNCHANGED:
            return "Ready, unchanged since last read" + tail
        if self.state == QUEUED:
            return "Waiting to be read"
        if self.state == INDEXING:
            return self.detail or "Reading…"
        if self.state == SKIPPED:
            return f"Skipped: {self.detail}"
        return f"Could not be read: {self.detail}"


class LibraryModel(QAbstractListModel):
    """One row per file, sorted by name; rows being read show their stage."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[LibraryRow] = []

    # -- feeding ----------------------------------------------------------------------------

    def set_documents(self, docs: list[Document]) -> None:
        """The saved library; rows of a batch still being read (and skipped files) are kept."""
        live = {r.path: r for r in self.rows if r.state in (QUEUED, INDEXING, SKIPPED)}
        rows = {}
        for d in docs:
            state = READY if d.status == "ready" else FAILED if d.status == "failed" else INDEXING
            rows[d.path] = LibraryRow(d.path, state, d.error, d.page_count, d.chunk_count, d.doc_id)
        for path, row in live.items():
            if row.state in (QUEUED, INDEXING) or path not in rows:
                rows[path] = row
        self._reset(list(rows.values()))

    def mark_queued(self, paths: list[str]) -> None:
        rows = {r.path: r for r in self.rows}
        for p in paths:
            old = rows.get(p)
            rows[p] = LibraryRow(p, QUEUED, None, old.pages if old else None, old.chunks if old else 0,
                                 old.doc_id if old else None)
        self._reset(list(rows.values()))

    def apply_progress(self, p: IngestProgress) -> None:
        if p.current is None:
            return
        self._update(str(p.current), state=INDEXING, detail=_STAGES.get(p.stage, "Reading…"))

    def apply_outcome(self, o: FileOutcome) -> None:
        state = {"ingested": READY, "unchanged": UNCHANGED, "failed": FAILED, "skipped": SKIPPED}[o.status]
        row = LibraryRow(str(o.path), state, o.reason, o.pages, o.chunks)
        if not self._update(row.path, state=state, detail=o.reason, pages=o.pages, chunks=o.chunks):
            self._reset([*self.rows, row])

    def drop_queued(self) -> None:
        """A cancelled batch: files never reached go back to how they were (or away)."""
        self._reset([r for r in self.rows if r.state not in (QUEUED, INDEXING)])

    def _update(self, path: str, **changes: Any) -> bool:
        for i, r in enumerate(self.rows):
            if r.path == path:
                self.rows[i] = replace(r, **changes)
                self.dataChanged.emit(self.index(i), self.index(i))
                return True
        return False

    def _reset(self, rows: list[LibraryRow]) -> None:
        self.beginResetModel()
        self.rows = sorted(rows, key=lambda r: (r.name.lower(), r.path))
        self.endResetModel()

    # -- reading ----------------------------------------------------------------------------

    def count(self, *states: str) -> int:
        return sum(1 for r in self.rows if r.state in states)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return r.name
        if role == DetailRole:
            return r.summary()
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(f"{r.path}\n{r.summary()}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{r.name}: {r.summary()}"
        if role == PathRole:
            return r.path
        if role == StateRole:
            return r.state
        return None
