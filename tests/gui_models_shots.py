"""Screenshots of the Models window and the conversation's model chooser:
``python -m tests.gui_models_shots OUT_DIR [light|dark]``.

Run it on a display (Xvfb, as tests/gui_shots.py). A fresh data folder gets a small PDF (read
with the real models), the SmolLM2 test model (referenced) and a small F16 model quantized from
the window; the two small models are compared on one question about the PDF. Saved:

- ``{theme}-{width}-models.png``: the Models window, 800 and 1280 pixels wide, with the
  comparison table;
- ``{theme}-{width}-chat.png`` and ``{theme}-{width}-chooser.png``: the main window with the
  conversation's model chooser, closed and open.

It prints one JSON line of what it checked and exits 1 when a step did not happen.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from tests.gui_evidence_shots import dark_palette
from tests.gui_shots import PROTOCOL, wait


def main(out: Path, scheme: str = "light") -> int:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sanctum-models-shots-"))
    os.environ["SANCTUM_HOME"] = str(work / "home")
    os.environ.setdefault("SANCTUM_PASSPHRASE", "screenshot passphrase")
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[key] = "1"

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    from app.core.models import shipped
    from app.gui import theme
    from app.gui.app import application, build
    from tests import docmaker
    from tests.ggufmaker import tiny_llama

    app = application()
    if scheme == "dark":
        QGuiApplication.styleHints().setColorScheme(Qt.ColorScheme.Dark)
        app.processEvents()
        if not theme.is_dark():
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
    service = window.engine.model_service()
    smol = service.add(shipped.find_test_chat_model(), copy=False)
    tiny = service.add(tiny_llama(work / "ward-notes-f16.gguf", f16=True, template=None, name="Ward notes F16"),
                       copy=False)
    window.refresh_model_choices()

    dialog = window.models.dialog_for(window)
    dialog.move(0, 0)
    dialog.show()
    checks["listed"] = wait(app, lambda: len(dialog.views) >= 4 and not dialog.cancel_button.isVisible(), 120)
    dialog.sig_quantize.emit(tiny.key, "Q8_0", False)
    checks["quantized"] = wait(app, lambda: "Quantized to Q8_0" in dialog.status.text(), 120)
    questions = work / "questions.jsonl"
    questions.write_text(json.dumps({"q": "How often are central line dressings changed?", "answers": ["7 days"],
                                     "impossible": False, "file": pdf.name}) + "\n")
    wait(app, lambda: not dialog.cancel_button.isVisible(), 60)
    dialog.sig_compare.emit(str(questions), [smol.key, "qwen-0.5b"])
    checks["compared"] = wait(app, lambda: dialog.results.isVisible(), 600)
    checks["idle"] = wait(app, lambda: not dialog.cancel_button.isVisible(), 60)
    dialog.table.selectRow(next(i for i, v in enumerate(dialog.views) if v.key == smol.key))

    def shot(widget, name: str) -> None:
        wait(app, lambda: False, 0.8)
        image = QGuiApplication.primaryScreen().grabWindow(widget.winId())
        image.save(str(out / name), "PNG")
        checks[name] = [image.width(), image.height()]

    for width in (800, 1280):
        dialog.resize(width, 700)
        wait(app, lambda w=width: dialog.width() == w, 10)
        shot(dialog, f"{scheme}-{width}-models.png")
    dialog.close()
    window.chats.new_conversation()
    for width in (800, 1280):
        window.resize(width, 760)
        wait(app, lambda w=width: window.width() == w, 10)
        shot(window, f"{scheme}-{width}-chat.png")
        window.chat.model_box.showPopup()
        shot(window, f"{scheme}-{width}-chooser.png")
        window.chat.model_box.hidePopup()
    window.close()
    window.engine.close()
    ok = all(checks.get(k) for k in ("model_ready", "library_read", "listed", "quantized", "compared", "idle"))
    checks["ok"] = ok
    print(json.dumps(checks))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "sanctum-shots"),
                  sys.argv[2] if len(sys.argv) > 2 else "light"))
