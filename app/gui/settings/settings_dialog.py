"""The settings a person may want to change: which model, how much context, how many passages, privacy."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.config import Settings
from app.core.errors import ConfigError
from app.core.models.gguf import GGUFInfo
from app.gui import theme

if TYPE_CHECKING:
    from app.gui.privacy.controller import PrivacyController
    from app.gui.settings.privacy_page import PrivacyPage


def describe_model(info: GGUFInfo) -> str:
    """'Qwen2.5 … · Q4_K_M · 491 MB · trained for 32,768 tokens of context'."""
    parts = [info.name, info.quantization or "GGUF", f"{info.size_bytes / 1e6:,.0f} MB"]
    if info.context_length:
        parts.append(f"trained for {info.context_length:,} tokens of context")
    if not info.has_chat_template:
        parts.append("no chat template (answers may be rough)")
    return " · ".join(parts)


def _left(widget: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(widget)
    row.addStretch(1)
    return row


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`result_settings` gives the new ones after OK."""

    sig_model_chosen = Signal(str)
    """Emitted with a .gguf path whose header should be read (the caller calls show_model_info)."""

    sig_manage_models = Signal()
    """Emitted when the user wants the Models window (add, compare, quantize, adapters)."""

    def __init__(self, settings: Settings, *, default_model: str, privacy: PrivacyController | None = None,
                 shipped: list[tuple[str, str, str]] | None = None, parent: QWidget | None = None) -> None:
        """
        Args:
            settings: The settings to show.
            default_model: The bundled default model's file (used when no file is chosen).
            privacy: The Privacy tab's controller (None: no Privacy tab).
            shipped: The bundled chat models, one click each: (title, file, what it costs here).
        """
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self._original = settings
        self._default_model = default_model
        self._result: Settings | None = None
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        general = QWidget(self.tabs)
        general_layout = QVBoxLayout(general)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

        self.model_path = QLineEdit(settings.chat_model or "", self)
        self.model_path.setPlaceholderText("The bundled model")
        self.model_path.setAccessibleName("Chat model file")
        self.model_path.editingFinished.connect(lambda: self.sig_model_chosen.emit(self._model_file()))
        browse = QPushButton("Choose…", self)
        browse.setAccessibleName("Choose a chat model file")
        browse.clicked.connect(self._on_browse_model_clicked)
        default = QPushButton("Use bundled", self)
        default.setAccessibleName("Use the bundled chat model")
        default.clicked.connect(self._on_default_model_clicked)
        row = QHBoxLayout()
        row.addWidget(self.model_path, 1)
        row.addWidget(browse)
        row.addWidget(default)
        form.addRow("Chat &model:", self._wrap(row))
        self.shipped_buttons: list[tuple[QRadioButton, str]] = []
        if shipped:
            choices = QVBoxLayout()
            for title, path, note in shipped:
                button = QRadioButton(title, self)
                button.setAccessibleName(f"Use {title}")
                button.setChecked(Path(self._model_file()) == Path(path))
                button.toggled.connect(lambda on, p=path: on and self._on_shipped_model_chosen(p))
                hint = QLabel(note, self)
                theme.set_muted(hint)
                hint.setWordWrap(True)
                hint.setContentsMargins(24, 0, 0, 4)
                choices.addWidget(button)
                choices.addWidget(hint)
                self.shipped_buttons.append((button, path))
            form.addRow("", self._wrap(choices))
        self.model_info = QLabel("Reading the model file…", self)
        self.model_info.setAccessibleName("Chat model details")
        self.model_info.setWordWrap(True)
        form.addRow("", self.model_info)
        manage = QPushButton("Models…", self)
        manage.setAccessibleName("Open the Models window")
        manage.setToolTip("Add your own models, compare them on your questions, quantize them, give them adapters")
        manage.clicked.connect(self.sig_manage_models)
        form.addRow("", self._wrap(_left(manage)))

        self.context = QSpinBox(self)
        self.context.setRange(512, 131072)
        self.context.setSingleStep(512)
        self.context.setSuffix(" tokens")
        self.context.setValue(settings.context_size)
        self.context.setAccessibleName("Context size")
        self.context.setToolTip("How much text the model reads at once: more passages and longer conversations "
                                "fit, but it uses more memory.")
        form.addRow("&Context size:", self.context)

        self.threads = QSpinBox(self)
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText("Automatic")
        self.threads.setValue(settings.threads)
        self.threads.setAccessibleName("Threads")
        form.addRow("&Threads:", self.threads)

        self.temperature = QDoubleSpinBox(self)
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setDecimals(2)
        self.temperature.setValue(settings.temperature)
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setToolTip("Lower keeps answers closer to your documents; higher varies the wording.")
        form.addRow("T&emperature:", self.temperature)

        self.top_k = QSpinBox(self)
        self.top_k.setRange(1, 50)
        self.top_k.setValue(settings.top_k)
        self.top_k.setAccessibleName("Passages per answer")
        form.addRow("&Passages per answer:", self.top_k)

        self.embedding = QLineEdit(settings.embedding_model or "", self)
        self.embedding.setPlaceholderText("The bundled model (all-MiniLM-L6-v2)")
        self.embedding.setAccessibleName("Embedding model folder")
        ebrowse = QPushButton("Choose…", self)
        ebrowse.setAccessibleName("Choose an embedding model folder")
        ebrowse.clicked.connect(self._on_browse_embedding_clicked)
        erow = QHBoxLayout()
        erow.addWidget(self.embedding, 1)
        erow.addWidget(ebrowse)
        form.addRow("&Embedding model:", self._wrap(erow))
        enote = QLabel("Changing the embedding model takes effect after a restart, and your documents must then "
                       "be read again (the library offers it).", self)
        enote.setWordWrap(True)
        theme.set_muted(enote)
        form.addRow("", enote)
        general_layout.addLayout(form)
        general_layout.addStretch(1)
        self.tabs.addTab(general, "&Models and answers")
        self.privacy_page: PrivacyPage | None = None
        if privacy is not None:
            from app.gui.settings.privacy_page import PrivacyPage

            self.privacy_page = PrivacyPage(settings, privacy, self.tabs)
            self.tabs.addTab(self.privacy_page, "&Privacy")
        from app.gui.settings.team_page import TeamPage

        self.team_page = TeamPage(settings, self.tabs)
        self.team_page.sig_use_local.connect(self._on_buttons_accepted)
        self.tabs.addTab(self.team_page, "&Team server")
        layout.addWidget(self.tabs)

        self.error = QLabel("", self)
        self.error.setAccessibleName("Settings problem")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 90)
        if self.privacy_page is not None:  # wrapped notes: a top-level dialog does not ask their height
            page_layout = self.privacy_page.layout()
            width = self.minimumWidth() - 2 * self.fontMetrics().averageCharWidth() * 3
            if page_layout is not None and page_layout.hasHeightForWidth():
                self.privacy_page.setMinimumHeight(page_layout.heightForWidth(width))

    @staticmethod
    def _wrap(layout: QHBoxLayout) -> QWidget:
        w = QWidget()
        layout.setContentsMargins(0, 0, 0, 0)
        w.setLayout(layout)
        return w

    def _model_file(self) -> str:
        return self.model_path.text().strip() or self._default_model

    def show_model_info(self, path: str, text: str, *, ok: bool) -> None:
        if path != self._model_file():
            return  # an older answer for a file no longer chosen
        color = "" if ok else f" style='color:{theme.error_color()}'"
        self.model_info.setText(f"<span{color}>{html.escape(text)}</span>")

    def _on_browse_model_clicked(self) -> None:
        start = str(Path(self._model_file()).parent)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a chat model", start, "GGUF models (*.gguf);;All files (*)")
        if path:
            self.model_path.setText(path)
            self.model_info.setText("Reading the model file…")
            self.sig_model_chosen.emit(path)

    def _on_shipped_model_chosen(self, path: str) -> None:
        if Path(path) == Path(self._default_model):
            self.model_path.clear()
        else:
            self.model_path.setText(path)
        self.model_info.setText("Reading the model file…")
        self.sig_model_chosen.emit(path)

    def _on_default_model_clicked(self) -> None:
        self.model_path.clear()
        self.sig_model_chosen.emit(self._default_model)

    def _on_browse_embedding_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a sentence-transformers model folder")
        if path:
            self.embedding.setText(path)

    def _on_buttons_accepted(self) -> None:
        candidate = dataclasses.replace(
            self._original,
            chat_model=self.model_path.text().strip() or None,
            embedding_model=self.embedding.text().strip() or None,
            context_size=self.context.value(),
            threads=self.threads.value(),
            temperature=round(self.temperature.value(), 2),
            top_k=self.top_k.value(),
            audit_full_questions=(self.privacy_page.full_questions.isChecked() if self.privacy_page
                                  else self._original.audit_full_questions),
            forget_answers_with_source=(self.privacy_page.forget_answers.isChecked() if self.privacy_page
                                        else self._original.forget_answers_with_source),
            chat_server=self.team_page.server(),
            chat_server_model=self.team_page.model_name(),
        )
        if candidate.max_answer_tokens >= candidate.context_size:
            candidate.max_answer_tokens = max(16, candidate.context_size // 4)
        try:
            candidate.validate()
        except ConfigError as exc:
            self.error.setText(f"<span style='color:{theme.error_color()}'>{html.escape(str(exc))}</span>")
            self.error.setVisible(True)
            return
        self._result = candidate
        self.accept()

    def result_settings(self) -> Settings | None:
        return self._result
