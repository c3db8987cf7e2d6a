"""Small dialogs of the privacy features: export a conversation, set the app lock, confirm a wipe."""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.privacy.service import MIN_LENGTH
from app.gui import theme

REDACT_LABEL = "Remove personal data (names, e-mail, phone, card, IBAN, SSN, NHS numbers, dates of birth)"
_FILTERS = {"md": "Markdown (*.md)", "pdf": "PDF (*.pdf)"}


def _error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel("", parent)
    label.setAccessibleName(name)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def _show_error(label: QLabel, text: str) -> None:
    label.setText(f"<span style='color:{theme.error_color()}'>{html.escape(text)}</span>")
    label.setVisible(True)


def safe_file_name(title: str) -> str:
    """A conversation title as a file name (no path separators or odd characters)."""
    name = re.sub(r"[^\w\- ]+", "", title).strip()[:60].strip()
    return name or "Conversation"


class ExportDialog(QDialog):
    """Where to export a conversation, as Markdown or PDF, and whether to remove personal data.

    Args:
        title: The conversation's title (the suggested file name).
        folder: The folder suggested first.
    """

    def __init__(self, title: str, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export conversation")
        self.setAccessibleName("Export conversation")
        layout = QVBoxLayout(self)
        heading = QLabel(f"Export “{html.escape(title)}”", self)
        heading.setFont(theme.scaled_font(self, 1.15, bold=True))
        heading.setWordWrap(True)
        layout.addWidget(heading)
        form = QFormLayout()
        self.markdown = QRadioButton("Markdown (.md)", self)
        self.pdf = QRadioButton("PDF (.pdf)", self)
        self.pdf.setChecked(True)
        kinds = QHBoxLayout()
        kinds.addWidget(self.pdf)
        kinds.addWidget(self.markdown)
        kinds.addStretch(1)
        form.addRow("Format:", kinds)
        self.path = QLineEdit(str(Path(folder) / f"{safe_file_name(title)}.pdf"), self)
        self.path.setAccessibleName("Export to file")
        browse = QPushButton("Choose…", self)
        browse.setAccessibleName("Choose where to save the export")
        browse.clicked.connect(self._on_browse_clicked)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        form.addRow("Save as:", where)
        layout.addLayout(form)
        self.redact = QCheckBox(REDACT_LABEL, self)
        self.redact.setChecked(True)
        layout.addWidget(self.redact)
        note = QLabel("The exported file is not encrypted: keep it somewhere safe. The export is recorded in "
                      "the audit log.", self)
        note.setWordWrap(True)
        theme.set_muted(note)
        layout.addWidget(note)
        self.error = _error_label(self, "Export problem")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.markdown.toggled.connect(self._on_format_toggled)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 84)

    def fmt(self) -> str:
        return "md" if self.markdown.isChecked() else "pdf"

    def _on_format_toggled(self) -> None:
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix("." + self.fmt())))

    def _on_browse_clicked(self) -> None:
        chosen, used = QFileDialog.getSaveFileName(self, "Export conversation", self.path.text(),
                                                   ";;".join((_FILTERS[self.fmt()], *(
                                                       f for k, f in _FILTERS.items() if k != self.fmt()))))
        if chosen:
            self.choose(Path(chosen), used)

    def choose(self, path: Path, used_filter: str = "") -> None:
        """Take a file from the save dialog: its suffix (or the filter chosen) sets the format."""
        suffix = path.suffix.lower().lstrip(".")
        fmt = suffix if suffix in _FILTERS else next((k for k, f in _FILTERS.items() if f == used_filter), self.fmt())
        (self.markdown if fmt == "md" else self.pdf).setChecked(True)
        self.path.setText(str(path if suffix in _FILTERS else path.with_name(path.name + "." + fmt)))

    def _on_buttons_accepted(self) -> None:
        text = self.path.text().strip()
        if not text:
            _show_error(self.error, "Choose a file to export to.")
            return
        path = Path(text).expanduser()
        if path.suffix.lower().lstrip(".") != self.fmt():
            path = path.with_name(path.name + "." + self.fmt())
            self.path.setText(str(path))
        if not path.parent.is_dir():
            _show_error(self.error, f"The folder {path.parent} does not exist.")
            return
        self.accept()

    def chosen_path(self) -> Path:
        return Path(self.path.text().strip()).expanduser()


class AppLockDialog(QDialog):
    """Turn the app lock on, change it, or turn it off.

    Args:
        mode: "on", "change" or "off".
        idle_minutes: The idle time shown first.
    """

    def __init__(self, mode: str, *, idle_minutes: int = 10, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = mode
        titles = {"on": "Turn on the app lock", "change": "Change the app lock", "off": "Turn off the app lock"}
        self.setWindowTitle(titles[mode])
        self.setAccessibleName(titles[mode])
        layout = QVBoxLayout(self)
        intro = {
            "on": "Sanctum will ask for this passphrase when it starts and after the idle time below, so "
                  "nobody else at this workstation can read your conversations or documents.",
            "change": "Type the current passphrase, then the new one (it may be the same) and the idle time.",
            "off": "Type the current app-lock passphrase to turn the lock off.",
        }[mode]
        text = QLabel(intro, self)
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()

        def field(name: str) -> QLineEdit:
            edit = QLineEdit(self)
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(name)
            return edit

        self.current = field("Current passphrase")
        self.new = field("New passphrase")
        self.again = field("New passphrase again")
        self.minutes = QSpinBox(self)
        self.minutes.setRange(1, 240)
        self.minutes.setValue(idle_minutes)
        self.minutes.setSuffix(" minutes")
        self.minutes.setAccessibleName("Lock after this many minutes without use")
        if mode in ("change", "off"):
            form.addRow("&Current passphrase:", self.current)
        if mode in ("on", "change"):
            form.addRow("&New passphrase:", self.new)
            form.addRow("&Again:", self.again)
            form.addRow("&Lock after:", self.minutes)
        layout.addLayout(form)
        self.error = _error_label(self, "App lock problem")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            {"on": "Turn on", "change": "Change", "off": "Turn off"}[mode])
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)

    def _on_buttons_accepted(self) -> None:
        if self.mode in ("change", "off") and not self.current.text():
            _show_error(self.error, "Type the current passphrase.")
        elif self.mode != "off" and len(self.new.text()) < MIN_LENGTH:
            _show_error(self.error, f"Choose a passphrase of at least {MIN_LENGTH} characters.")
        elif self.mode != "off" and self.new.text() != self.again.text():
            _show_error(self.error, "The two new passphrases differ.")
        else:
            self.accept()


WIPE_WORD = "WIPE"


class WipeDialog(QDialog):
    """The strong confirmation before every piece of Sanctum data and its key are deleted."""

    def __init__(self, root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Wipe all data")
        self.setAccessibleName("Wipe all data")
        layout = QVBoxLayout(self)
        heading = QLabel("Delete all Sanctum data on this computer?", self)
        heading.setFont(theme.scaled_font(self, 1.15, bold=True))
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.text = text = QLabel(
            "This deletes the document index (all passages and their search data), every saved "
            "conversation, the audit log, the app lock and the encryption key from the system keyring. "
            "<b>It cannot be undone</b>: without the key nothing left behind can ever be read again."
            f"<p>Your original files are not touched. Data folder: {html.escape(str(root))}</p>"
            f"<p>Type <b>{WIPE_WORD}</b> to confirm.</p>", self)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.confirm = QLineEdit(self)
        self.confirm.setAccessibleName(f"Type {WIPE_WORD} to confirm")
        self.confirm.setPlaceholderText(WIPE_WORD)
        layout.addWidget(self.confirm)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.wipe_button = buttons.addButton("Wipe all data", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.wipe_button.setEnabled(False)
        self.wipe_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        layout.addWidget(buttons)
        self.confirm.textChanged.connect(lambda t: self.wipe_button.setEnabled(t.strip() == WIPE_WORD))
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
