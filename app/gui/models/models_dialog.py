"""The Models window: the chat models on this computer, what each is, and what to do with them.

A view only: it shows what :class:`app.gui.models.controller.ModelsController` gives it and
emits what the user asks for.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.models.service import NO_TEMPLATE_NOTE, QUANT_TYPES, UNQUANTIZED, ModelView
from app.gui import theme

COLUMNS = ["", "Model", "Family", "Size", "Quantization", "Context", "Chat template", "Licence",
           "First words · speed here"]
QUANT_HELP = {
    "Q4_K_M": "smallest and quickest; a little less accurate",
    "Q5_K_M": "a balance of size and accuracy",
    "Q6_K": "close to the original; larger",
    "Q8_0": "nearly the original; about half the size of F16",
}


def model_label(view: ModelView, views: list[ModelView]) -> str:
    """The model's name, with its quantization where another model has the same name (a
    quantized copy), and its adapters."""
    label = view.title
    if view.info and sum(v.title == view.title for v in views) > 1:
        label += f" · {view.info.quantization or view.path.name}"
    if view.adapters:
        label += f" + {len(view.adapters)} adapter{'s' * (len(view.adapters) > 1)}"
    return label


def speed_text(view: ModelView) -> str:
    if view.speed is None:
        return "not used yet"
    rate = f" · {view.speed.tokens_per_s:.0f} tok/s" if view.speed.tokens_per_s else ""
    return f"{view.speed.first_word_s:.1f} s{rate}"


class QuantizeDialog(QDialog):
    """Asks for the type (and, for an already quantized model, the go-ahead to requantize)."""

    def __init__(self, view: ModelView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Quantize {view.title}")
        quant = view.info.quantization if view.info else None
        form = QFormLayout(self)
        self.type = QComboBox(self)
        self.type.setAccessibleName("Quantization type")
        for t in QUANT_TYPES:
            self.type.addItem(f"{t} — {QUANT_HELP[t]}", t)
        form.addRow("&Type:", self.type)
        self.requantize = QCheckBox("Quantize it again anyway", self)
        if quant not in UNQUANTIZED:
            note = QLabel(f"This model is already quantized ({quant or 'unknown type'}). Quantizing it again adds a "
                          "second rounding error to the first, so its answers get worse than quantizing the "
                          "original F16 file would give. Use the original if you have it.", self)
            note.setWordWrap(True)
            note.setStyleSheet(f"color: {theme.warn_color()}")
            form.addRow(note)
            form.addRow("", self.requantize)
        else:
            self.requantize.setChecked(False)
            self.requantize.hide()
        self.note = QLabel("The result is written beside the original and added to the list. It takes a while "
                           "for a large model; you can keep using Sanctum meanwhile.", self)
        self.note.setWordWrap(True)
        form.addRow(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Quantize")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen(self) -> tuple[str, bool]:
        return str(self.type.currentData()), self.requantize.isChecked()


class ModelsDialog(QDialog):
    """The list of chat models and the actions on them."""

    sig_add = Signal(str, bool)
    """Emitted with a .gguf path and whether to copy it into Sanctum's data folder."""

    sig_remove = Signal(str)
    """Emitted with the key of a model to forget."""

    sig_default = Signal(str)
    """Emitted with the key of the model new conversations should use."""

    sig_add_adapter = Signal(str, str, float)
    """Emitted with a model key, a LoRA adapter file and its scale."""

    sig_remove_adapter = Signal(str, str)
    """Emitted with a model key and the file name of an adapter to take off."""

    sig_quantize = Signal(str, str, bool)
    """Emitted with a model key, a quantization type and whether requantizing is allowed."""

    sig_compare = Signal(str, list)
    """Emitted with a question file and the keys of the models to compare on it."""

    sig_cancel = Signal()
    """Emitted when the user stops the running task."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setAccessibleName("Models")
        self.views: list[ModelView] = []
        layout = QVBoxLayout(self)
        intro = QLabel("The chat models on this computer. Each conversation can use its own (the chooser beside "
                       "the question box); the one marked ✓ answers new conversations.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        split = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableWidget(0, len(COLUMNS), split)
        self.table.setAccessibleName("Chat models")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)

        details = QWidget(split)
        dl = QVBoxLayout(details)
        dl.setContentsMargins(0, 6, 0, 0)
        self.details = QLabel("Choose a model to see its details.", details)
        self.details.setAccessibleName("Model details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dl.addWidget(self.details)
        arow = QHBoxLayout()
        self.adapters = QListWidget(details)
        self.adapters.setAccessibleName("LoRA adapters of this model")
        self.adapters.setMaximumHeight(70)
        self.add_adapter_button = QPushButton("Add adapter…", details)
        self.add_adapter_button.setToolTip("Let this model carry a LoRA adapter (a GGUF file made for it)")
        self.add_adapter_button.clicked.connect(self._on_add_adapter_clicked)
        self.remove_adapter_button = QPushButton("Remove adapter", details)
        self.remove_adapter_button.clicked.connect(self._on_remove_adapter_clicked)
        acol = QVBoxLayout()
        acol.addWidget(self.add_adapter_button)
        acol.addWidget(self.remove_adapter_button)
        acol.addStretch(1)
        arow.addWidget(self.adapters, 1)
        arow.addLayout(acol)
        self.adapters_label = QLabel("Adapters (LoRA):", details)
        dl.addWidget(self.adapters_label)
        dl.addLayout(arow)
        self.results = QTableWidget(0, 0, None)
        self.results.setAccessibleName("Comparison of models")
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.results.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        dl.addStretch(1)
        self.lower = QTabWidget(split)
        self.lower.setAccessibleName("Model details and comparison")
        self.lower.addTab(details, "&Details")
        self.compare_note = QLabel("Choose one or more models above and “Compare on my questions…”: each is asked "
                                   "the questions of a file about your documents, and the results appear here "
                                   "side by side.", None)
        self.compare_note.setWordWrap(True)
        self.compare_note.setAlignment(Qt.AlignmentFlag.AlignTop)
        compare_page = QWidget(None)
        cl = QVBoxLayout(compare_page)
        cl.addWidget(self.compare_note)
        cl.addWidget(self.results, 1)
        self.results.hide()
        self.lower.addTab(compare_page, "C&omparison")
        split.addWidget(self.table)
        split.addWidget(self.lower)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout.addWidget(split, 1)

        status = QHBoxLayout()
        self.status = QLabel("", self)
        self.status.setAccessibleName("Models task status")
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Progress")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel the running task")
        self.cancel_button.clicked.connect(self.sig_cancel)
        self.cancel_button.hide()
        status.addWidget(self.status, 1)
        status.addWidget(self.progress)
        status.addWidget(self.cancel_button)
        layout.addLayout(status)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add model…", self)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.default_button = QPushButton("Use for &new conversations", self)
        self.default_button.clicked.connect(lambda: self._selected() and self.sig_default.emit(self._selected()[0].key))
        self.quantize_button = QPushButton("&Quantize…", self)
        self.quantize_button.setToolTip("Make a smaller, quicker copy of this model on this computer")
        self.quantize_button.clicked.connect(self._on_quantize_clicked)
        self.compare_button = QPushButton("&Compare on my questions…", self)
        self.compare_button.setToolTip("Ask the selected models the questions of a file (JSON lines with q and "
                                       "answers) about your documents and show the results side by side")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        for b in (self.add_button, self.remove_button, self.default_button, self.quantize_button, self.compare_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.resize(1000, 640)
        self._update_buttons()

    # -- showing ----------------------------------------------------------------------------

    def set_models(self, views: list[ModelView]) -> None:
        keys = [v.key for v in self._selected()]
        self.views = views
        self.table.setRowCount(len(views))
        for row, v in enumerate(views):
            i = v.info
            cells = [
                "✓" if v.default else "",
                model_label(v, views),
                i.family if i else "—",
                i.parameters_label() if i else "—",
                (i.quantization or "?") if i else "—",
                f"{i.context_length:,}" if i and i.context_length else "?",
                ("yes" if i.has_chat_template else "no (plain format)") if i else "—",
                (i.licence or "not stated") if i else "—",
                speed_text(v) if i else (v.problem or ""),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(v.problem or str(v.path))
                if v.problem:
                    item.setForeground(QColor(theme.error_color()))
                self.table.setItem(row, col, item)
        for row, v in enumerate(views):
            if v.key in keys:
                self.table.selectRow(row)
        if not self._selected() and views:
            self.table.selectRow(next((r for r, v in enumerate(views) if v.default), 0))
        self._on_table_selection_changed()

    def _selected(self) -> list[ModelView]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.views[r] for r in rows if r < len(self.views)]

    def _on_table_selection_changed(self) -> None:
        chosen = self._selected()
        if len(chosen) != 1:
            self.details.setText(f"{len(chosen)} models chosen: compare them on your questions." if chosen else
                                 "Choose a model to see its details.")
            self.adapters.clear()
        else:
            self.details.setText(self._describe(chosen[0]))
            self.adapters.clear()
            for a in chosen[0].adapters:
                self.adapters.addItem(f"{a.name} — scale {a.scale:g}")
        self._update_buttons()

    def _describe(self, v: ModelView) -> str:
        origin = ("bundled with Sanctum" if v.bundled else
                  "chosen in Settings, not added to the list" if not v.listed else
                  "copied into Sanctum's data folder" if v.copied else "used where it lies")
        lines = [f"<b>{html.escape(v.title)}</b> — {origin}", f"File: {html.escape(str(v.path))}"]
        if v.problem:
            lines.append(f"<span style='color:{theme.error_color()}'>{html.escape(v.problem)}</span>")
        if v.sha256:
            lines.append(f"SHA-256: <code>{v.sha256}</code>")
        if v.info:
            lines.append(f"{v.info.size_bytes / 1e6:,.0f} MB · {v.info.parameters:,} parameters · "
                         f"architecture {html.escape(v.info.architecture or '?')}")
            if not v.info.has_chat_template:
                lines.append(html.escape(NO_TEMPLATE_NOTE.capitalize()))
        speed = (f"first words after {v.speed.first_word_s:.1f} s, then {v.speed.tokens_per_s or 0:.0f} tokens/s "
                 f"(median of {v.speed.answers} answer{'s' * (v.speed.answers != 1)})" if v.speed else "not used yet")
        lines.append(f"Speed on this computer: {html.escape(speed)} — measured on real answers, from the first one")
        return "<br>".join(lines)

    def _update_buttons(self, busy: bool | None = None) -> None:
        busy = self.cancel_button.isVisible() if busy is None else busy
        chosen = self._selected()
        one = chosen[0] if len(chosen) == 1 else None
        self.remove_button.setEnabled(not busy and one is not None and not one.bundled and one.listed)
        self.default_button.setEnabled(not busy and one is not None and not one.default and not one.problem)
        self.quantize_button.setEnabled(not busy and one is not None and not one.problem)
        self.compare_button.setEnabled(not busy and bool(chosen))
        self.add_button.setEnabled(not busy)
        adaptable = not busy and one is not None and not one.bundled and one.listed
        self.add_adapter_button.setEnabled(adaptable)
        self.remove_adapter_button.setEnabled(adaptable and self.adapters.count() > 0)
        self.adapters.setToolTip("" if one is None or not one.bundled else
                                 "A bundled model stays as shipped: add a copy of it to give it adapters")

    def set_busy(self, text: str, done: int = 0, total: int = 0) -> None:
        """Show a running task (total 0: unknown length) with its Cancel button."""
        self.status.setText(text)
        self.progress.setVisible(True)
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.cancel_button.setVisible(True)
        self._update_buttons(busy=True)

    def set_idle(self, text: str, *, error: bool = False) -> None:
        color = theme.error_color() if error else ""
        shown = html.escape(text, quote=False)
        self.status.setText(f"<span style='color:{color}'>{shown}</span>" if error else shown)
        self.progress.hide()
        self.cancel_button.hide()
        self._update_buttons(busy=False)

    def show_comparison(self, columns: list[str], rows: list[tuple[str, list[str]]]) -> None:
        self.results.clear()
        self.results.setColumnCount(len(columns))
        self.results.setRowCount(len(rows))
        self.results.setHorizontalHeaderLabels(columns)
        self.results.setVerticalHeaderLabels([label for label, _ in rows])
        for r, (_, cells) in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.results.setItem(r, c, item)
        self.results.show()
        self.compare_note.setText("Asked on your documents with this computer's speed, while it did whatever else "
                                  "it was doing. Right answers and honest declines matter most; then the time to "
                                  "the first words.")
        self.lower.setCurrentIndex(1)

    # -- asking -----------------------------------------------------------------------------

    def _on_add_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a chat model", str(Path.home()),
                                              "GGUF models (*.gguf);;All files (*)")
        if not path:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Add a chat model",
                          f"Copy {Path(path).name} into Sanctum's data folder, or use it where it lies?", parent=self)
        box.setInformativeText("A copy keeps working when the original is moved or its drive is unplugged; "
                               "it takes the disk space once more.")
        copy = box.addButton("Copy it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Use it where it is", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is None or box.buttonRole(box.clickedButton()) == QMessageBox.ButtonRole.RejectRole:
            return
        self.sig_add.emit(path, box.clickedButton() is copy)

    def _on_remove_clicked(self) -> None:
        chosen = self._selected()
        if len(chosen) != 1:
            return
        v = chosen[0]
        what = "Its copy in Sanctum's data folder is deleted." if v.copied else "The file itself is left where it is."
        answer = QMessageBox.question(self, "Remove model", f"Remove {v.title} from the list? {what}")
        if answer == QMessageBox.StandardButton.Yes:
            self.sig_remove.emit(v.key)

    def _on_quantize_clicked(self) -> None:
        chosen = self._selected()
        if len(chosen) != 1:
            return
        dialog = QuantizeDialog(chosen[0], self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            qtype, allow = dialog.chosen()
            self.sig_quantize.emit(chosen[0].key, qtype, allow)

    def _on_compare_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Questions to compare the models on", str(Path.home()),
                                              "Question files (*.jsonl);;All files (*)")
        if path:
            self.sig_compare.emit(path, [v.key for v in self._selected()])

    def _on_add_adapter_clicked(self) -> None:
        chosen = self._selected()
        if len(chosen) != 1:
            return
        path, _ = QFileDialog.getOpenFileName(self, f"A LoRA adapter for {chosen[0].title}", str(Path.home()),
                                              "GGUF adapters (*.gguf);;All files (*)")
        if not path:
            return
        scale = QDoubleSpinBox(self)
        scale.setRange(0.0, 2.0)
        scale.setSingleStep(0.1)
        scale.setValue(1.0)
        ask = QDialog(self)
        ask.setWindowTitle("Adapter strength")
        form = QFormLayout(ask)
        form.addRow(QLabel("How strongly the adapter changes the model: 0 = not at all, 1 = as trained.", ask))
        form.addRow("&Scale:", scale)
        scale.setParent(ask)
        ok = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, ask)
        ok.accepted.connect(ask.accept)
        ok.rejected.connect(ask.reject)
        form.addRow(ok)
        if ask.exec() == QDialog.DialogCode.Accepted:
            self.sig_add_adapter.emit(chosen[0].key, path, scale.value())

    def _on_remove_adapter_clicked(self) -> None:
        chosen = self._selected()
        row = self.adapters.currentRow()
        if len(chosen) != 1 or not chosen[0].adapters:
            return
        adapter = chosen[0].adapters[row if row >= 0 else 0]
        self.sig_remove_adapter.emit(chosen[0].key, adapter.name)
