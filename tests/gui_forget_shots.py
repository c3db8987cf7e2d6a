"""Screenshots of what forgetting and the audit anchor look like:
``python -m tests.gui_forget_shots OUT_DIR [light|dark]`` (on a display, e.g. under xvfb-run).

- ``SCHEME-WIDTH-source-removed.png``: a saved answer whose source was removed ("source removed"
  chip), beside one whose source is still there, and the status bar's warning that the audit log
  was deleted (with its dialog);
- ``SCHEME-privacy.png``: the Privacy tab with the "Removing documents" choice.

No chat model is loaded (nothing here needs one). Prints one JSON line of what it checked.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from tests.gui_evidence_shots import dark_palette
from tests.gui_shots import wait


def main(out: Path, scheme: str = "light") -> int:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sanctum-forget-shots-"))
    home = work / "home"
    os.environ["SANCTUM_HOME"] = str(home)
    os.environ.setdefault("SANCTUM_PASSPHRASE", "screenshot passphrase")

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QMessageBox

    from app.core.engine import Engine
    from app.core.storage.conversations import ASSISTANT, USER, Citation, EvidenceQuote
    from app.gui import theme
    from app.gui.app import application, build

    app = application()
    if scheme == "dark":
        QGuiApplication.styleHints().setColorScheme(Qt.ColorScheme.Dark)
        app.processEvents()
        if not theme.is_dark():
            app.setPalette(dark_palette())
        app.setStyleSheet(theme.app_stylesheet())
    checks: dict[str, object] = {"dark": theme.is_dark()}

    first = Engine(home)
    first.update_settings(top_k=6)
    store = first.conversations()
    conv = store.create("Door codes and dressings")
    store.append(conv.conv_id, USER, "What is the night door code on ward 9?")
    store.append(conv.conv_id, ASSISTANT, "The night door code on ward 9 is 4471 [1].",
                 citations=[Citation(1, "/records/ward9-night.pdf", 2, "Page 2", "door code 4471", doc_id="gone")],
                 evidence=[EvidenceQuote(1, "/records/ward9-night.pdf", 2, "Page 2", "The door code is 4471.",
                                         "door code is 4471")], supported=True)
    store.append(conv.conv_id, USER, "How often are central line dressings changed?")
    store.append(conv.conv_id, ASSISTANT, "Every 7 days, or at once when damp or loosened [1].",
                 citations=[Citation(1, "/records/ward4-protocols.pdf", 2, "Page 2",
                                     "Central line dressings are changed every 7 days.", doc_id="kept")],
                 supported=True)
    store.forget_sources(["gone"])  # what `sanctum remove` does to saved answers
    first.close()
    (home / "audit.log").unlink()
    (home / "audit.head").unlink()

    window = build()
    window.move(0, 0)
    window.resize(1280, 760)
    window.show()
    window.states.start()
    window.states.open_data()
    checks["warned"] = wait(app, lambda: window.audit_label.isVisible(), 60)
    box = window.findChild(QMessageBox, "audit_warning")
    window.chats.refresh_list()
    window.chats.open_conversation(conv.conv_id)
    checks["opened"] = wait(app, lambda: len(window.chat.messages) == 4, 60)
    chips = [c.text() for m in window.chat.messages for c in m.chips()] if checks["opened"] else []
    checks["chips"] = chips

    def grab(widget, name: str) -> None:
        wait(app, lambda: False, 0.8)
        image = QGuiApplication.primaryScreen().grabWindow(widget.winId())
        image.save(str(out / name), "PNG")
        checks[name] = [image.width(), image.height()]

    for width in (800, 1280):
        window.resize(width, 760)
        wait(app, lambda w=width: window.width() == w, 10)
        grab(window, f"{scheme}-{width}-source-removed.png")
    if box is not None:
        grab(box, f"{scheme}-audit-warning.png")
        box.close()
    dialog = window.settings_dialog()
    dialog.tabs.setCurrentWidget(dialog.privacy_page)
    dialog.show()
    grab(dialog, f"{scheme}-privacy.png")
    dialog.close()
    window.close()
    window.engine.close()
    print(json.dumps(checks))
    return 0 if checks["warned"] and checks["opened"] else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), *(sys.argv[2:3] or ["light"])))
