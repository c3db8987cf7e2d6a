"""Settings › Team server: answers written by the ward's or branch's own server instead of this PC.

The address is typed (nothing is discovered on the network); https is required except on this
computer; the API token goes to the system keyring, never to the settings file. Going back to the
model on this computer is one click.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.core.config import Settings
from app.gui import theme


class TeamPage(QWidget):
    """The Team server tab of the settings dialog."""

    sig_use_local = Signal()
    """Emitted by the one-click "use the model on this computer" button (the dialog saves at once)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Your IT team can run a faster model on a server of its own, inside your organisation's network. "
            "With its address here, that server writes the answers: your question and the passages it needs "
            "are sent to it over an encrypted connection, and to nothing else. Your documents stay on this "
            "computer.", self)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(intro)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.address = QLineEdit(settings.chat_server or "", self)
        self.address.setPlaceholderText("https://llm.ward.example:8443 — from your IT team")
        self.address.setAccessibleName("Team server address")
        form.addRow("Server &address:", self.address)
        self.model = QLineEdit(settings.chat_server_model or "", self)
        self.model.setPlaceholderText("The server's first model")
        self.model.setAccessibleName("Team server model name")
        form.addRow("&Model name:", self.model)
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Only if your IT team gave you one; kept in the system keyring")
        self.token.setAccessibleName("Team server API token")
        form.addRow("API &token:", self.token)
        layout.addLayout(form)

        self.use_local = QPushButton("Use the model on this computer", self)
        self.use_local.setAccessibleName("Use the model on this computer instead of the team server")
        self.use_local.setEnabled(bool(settings.chat_server))
        self.use_local.clicked.connect(self._on_use_local_clicked)
        layout.addWidget(self.use_local, 0, Qt.AlignmentFlag.AlignLeft)
        note = QLabel("While a team server is in use the status bar says “Team server” instead of “Offline”; "
                      "every other connection stays blocked, and the switch is recorded in the audit log.", self)
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.PlainText)
        theme.set_muted(note)
        layout.addWidget(note)
        layout.addStretch(1)

    def server(self) -> str | None:
        return self.address.text().strip() or None

    def model_name(self) -> str | None:
        return self.model.text().strip() or None

    def new_token(self) -> str | None:
        """The token typed now, or None when the field was left empty (the kept one stays)."""
        return self.token.text().strip() or None

    def _on_use_local_clicked(self) -> None:
        self.address.clear()
        self.sig_use_local.emit()
