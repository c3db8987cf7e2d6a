"""The desktop app's entry: builds the engine (the composition root) and the window, runs Qt.

The window shows at once; opening the key, the library and the conversations, and loading the
chat model all happen in worker lanes. Where the computer has no keyring, the passphrase is
asked for with a dialog (see :mod:`app.gui.passphrase`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.core.engine import Engine
from app.core.errors import SanctumError
from app.gui import theme
from app.gui.main_window import MainWindow
from app.gui.passphrase import PassphraseBroker


def application() -> QApplication:
    """The QApplication, set up once (name, shared style rules from the palette)."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Sanctum")
    app.setApplicationDisplayName("Sanctum")
    app.setStyleSheet(theme.app_stylesheet())
    icon = Path(__file__).resolve().parents[2] / "resources" / "sanctum.svg"
    if icon.is_file():  # a source checkout; installer bundles set their own icon
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    return app


def _cannot_start(exc: BaseException) -> int:
    """Say why the window cannot open (never a traceback) and return the exit code."""
    from PySide6.QtWidgets import QMessageBox

    from app.gui.tasks import user_message

    message = user_message(exc) if isinstance(exc, SanctumError) else f"{exc.strerror or exc}: {exc.filename}"
    print(f"sanctum: {message}", file=sys.stderr)
    box = QMessageBox(QMessageBox.Icon.Critical, "Sanctum cannot start",
                      f"Sanctum cannot start: {message[:1].lower() + message[1:]}")
    box.setInformativeText("Nothing was changed. Fix the problem above and open Sanctum again.")
    if QApplication.platformName() != "offscreen":
        box.exec()
    return 1


def build(engine: Engine | None = None, *, chat_model: Path | None = None,
          embedding_model: Path | None = None) -> MainWindow:
    """The window over ``engine`` (by default one on the user's data folder)."""
    application()
    broker = PassphraseBroker()
    if engine is None:
        engine = Engine(chat_model=chat_model, embedding_model=embedding_model, passphrase=broker)
    window = MainWindow(engine)
    broker.setParent(window)
    broker.parent_widget = window
    return window


def run(*, quit_after: float | None = None, screenshot: Path | None = None,
        chat_model: Path | None = None, embedding_model: Path | None = None) -> int:
    """Show the main window and run the event loop until it closes."""
    app = application()
    try:
        window = build(chat_model=chat_model, embedding_model=embedding_model)
    except (SanctumError, OSError) as exc:  # a damaged settings file, an unwritable data folder
        return _cannot_start(exc)
    window.show()
    window.start()
    if quit_after is not None:

        def finish() -> None:
            if screenshot is not None:
                window.grab().save(str(screenshot), "PNG")
            window.close()

        QTimer.singleShot(int(quit_after * 1000), finish)
    code = int(app.exec())
    window.engine.close()
    return code
