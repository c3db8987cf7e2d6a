"""Screenshots of answers with evidence, one not supported and a decline:
``python -m tests.gui_evidence_shots OUT_DIR [light|dark]``.

Run it on a display (Xvfb, as tests/gui_shots.py). A fresh data folder gets a small PDF (read with
the real models) and a saved conversation whose answers carry evidence and verdicts as the answer
pipeline gives them; the window is then shown 800 and 1280 pixels wide, with the conversation and
with the source viewer opened from an evidence sentence:

- ``{theme}-{width}-chat.png`` (the answer not supported), ``{theme}-{width}-end.png`` (the last
  answers, one a decline) and ``{theme}-{width}-source.png`` (the sentence marked on its page).

It prints one JSON line of what it checked and exits 1 when a step did not happen.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from tests.gui_shots import PROTOCOL, wait


def dark_palette():
    """A dark palette like a dark desktop theme's (Fusion's dark colours)."""
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, "#323232"), (roles.WindowText, "#e6e6e6"), (roles.Base, "#1e1e1e"),
                         (roles.AlternateBase, "#2a2a2a"), (roles.Text, "#e6e6e6"), (roles.Button, "#3a3a3a"),
                         (roles.ButtonText, "#e6e6e6"), (roles.Highlight, "#2f7fc1"),
                         (roles.HighlightedText, "#ffffff"), (roles.ToolTipBase, "#2a2a2a"),
                         (roles.ToolTipText, "#e6e6e6"), (roles.PlaceholderText, "#9a9a9a"), (roles.Dark, "#202020"),
                         (roles.Mid, "#404040"), (roles.Light, "#505050"), (roles.Link, "#6cb4ee")):
        pal.setColor(role, QColor(colour))
    pal.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor("#7a7a7a"))
    pal.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor("#7a7a7a"))
    return pal


def main(out: Path, scheme: str = "light") -> int:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sanctum-evidence-shots-"))
    os.environ["SANCTUM_HOME"] = str(work / "home")
    os.environ.setdefault("SANCTUM_PASSPHRASE", "screenshot passphrase")
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[key] = "1"

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    from app.core.storage.conversations import ASSISTANT, USER, Citation, EvidenceQuote
    from app.gui import theme
    from app.gui.app import application, build
    from tests import docmaker

    app = application()
    if scheme == "dark":  # as a dark desktop gives it: the app follows the system palette
        QGuiApplication.styleHints().setColorScheme(Qt.ColorScheme.Dark)
        app.processEvents()
        if not theme.is_dark():  # no platform theme to follow the request (Xvfb): a dark palette
            app.setPalette(dark_palette())
        app.setStyleSheet(theme.app_stylesheet())
    checks: dict[str, object] = {"dark": theme.is_dark()}

    docs = work / "docs"
    docs.mkdir()
    pdf = docmaker.make_pdf(docs / "Ward 4 protocols.pdf", PROTOCOL)
    window = build()
    window.move(0, 0)
    window.resize(1280, 760)
    window.show()
    window.start()
    checks["model_ready"] = wait(app, lambda: window.model_ready, 300)
    window.add_paths([pdf])
    checks["library_read"] = wait(app, lambda: window.docs.worker is None and any(
        r.state == "ready" for r in window.library.model.rows), 300)

    from app.core.ingest.parsers.pdf import parse_pdf

    sections = parse_pdf(pdf).sections
    central, falls = sections[1].text, sections[2].text

    def quote(passage: str, start: str, end: str) -> str:
        i = passage.index(start)
        return passage[i:passage.index(end, i) + len(end)]

    cite_central = Citation(1, str(pdf), 2, "Page 2", central)
    cite_falls = Citation(1, str(pdf), 3, "Page 3", falls)
    q1 = quote(central, "Central line dressings", "soiled.")
    q2 = quote(falls, "Patients over 65", "admission.")
    store = window.engine.conversations()
    conv = store.create("Central line dressings and falls")
    store.append(conv.conv_id, USER, "How often are central line dressings changed?")
    store.append(conv.conv_id, ASSISTANT, "Central line dressings are changed every 7 days, or at once when they are "
                 "damp, loosened or soiled [1].", citations=[cite_central],
                 evidence=[EvidenceQuote(1, str(pdf), 2, "Page 2", " ".join(q1.split()), q1)], supported=True)
    store.append(conv.conv_id, USER, "What dose of heparin is used to flush a PICC line?")
    store.append(conv.conv_id, ASSISTANT, "Flush the PICC line with 10 ml of heparin 100 units/ml after each use [1].",
                 citations=[cite_central], supported=False)
    store.append(conv.conv_id, USER, "When do older patients get a falls risk score?")
    store.append(conv.conv_id, ASSISTANT, "Patients over 65 get a falls risk score within 24 hours of admission [1].",
                 citations=[cite_falls], evidence=[EvidenceQuote(1, str(pdf), 3, "Page 3", " ".join(q2.split()), q2)],
                 supported=True)
    store.append(conv.conv_id, USER, "Who is the ward manager?")
    store.append(conv.conv_id, ASSISTANT, "The documents do not say who the ward manager is.", supported=None,
                 declined=True)
    window.chats.refresh_list()
    window.chats.open_conversation(conv.conv_id)
    checks["opened"] = wait(app, lambda: len(window.chat.messages) == 8, 60)

    def shot(name: str) -> None:
        wait(app, lambda: False, 0.8)  # let the last repaint reach the screen
        image = QGuiApplication.primaryScreen().grabWindow(window.winId())
        image.save(str(out / name), "PNG")
        checks[name] = [image.width(), image.height()]

    for width in (800, 1280):
        window.side.setCurrentWidget(window.library)
        window.resize(width, 760)
        wait(app, lambda w=width: window.width() == w, 10)
        bar = window.chat.scroll.verticalScrollBar()
        unsupported = window.chat.messages[3]
        wait(app, lambda: False, 0.3)
        bar.setValue(max(0, unsupported.y() - 260))
        shot(f"{scheme}-{width}-chat.png")
        checks[f"chat_share_{width}"] = round(window.chat.width() / window.width(), 2)
        bar.setValue(bar.maximum())  # the last answers: a supported one and a decline
        shot(f"{scheme}-{width}-end.png")
        [evidence] = window.chat.messages[1].quotes()
        evidence.sig_clicked.emit()
        checks[f"marked_{width}"] = wait(app, lambda: window.source.location is not None
                                         and bool(window.source.pdf_view.marks), 60)
        window.chat.scroll.ensureWidgetVisible(evidence)
        shot(f"{scheme}-{width}-source.png")
        checks[f"chat_share_source_{width}"] = round(window.chat.width() / window.width(), 2)
        window.show_conversations()

    window.close()
    window.engine.close()
    ok = all(v for k, v in checks.items() if k in ("model_ready", "library_read", "opened") or k.startswith("marked"))
    ok = ok and all(v >= 0.5 for k, v in checks.items() if k.startswith("chat_share"))
    checks["ok"] = ok
    print(json.dumps(checks))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "sanctum-shots"),
                  sys.argv[2] if len(sys.argv) > 2 else "light"))
