"""Screenshots of the real app in a real window: ``python -m tests.gui_shots OUT_DIR``.

Run it on a display (under Xvfb: see the README's developer section). It uses a fresh data
folder and the real default models, adds a small PDF and a damaged file, asks a question, opens
the cited page, and saves what the screen shows at each step:

- ``01-first-run.png``: the empty first run;
- ``02-cited-answer.png``: a conversation with a cited answer;
- ``03-library-failed-file.png``: the library with one file that could not be read;
- ``04-pdf-viewer.png``: the PDF viewer on the cited page;
- ``05-export-dialog.png``: exporting that conversation (the dialog);
- ``06-settings-privacy.png``: the Privacy tab of the settings (the dialog);
- ``07-lock-screen.png``: the window locked by the app lock.

It prints one JSON line of what it checked and exits 1 when a step did not happen.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROTOCOL = [
    "Ward 4 nursing protocols, revised March 2024. Hand hygiene before and after every patient contact. "
    "Visitors sign in at the nurses' station and use the alcohol gel at the door.",
    "Central line care. Central line dressings are changed every 7 days, or at once when damp, loosened "
    "or soiled. Clean the site with chlorhexidine 2 percent in 70 percent alcohol and let it dry for 30 "
    "seconds before applying a new transparent dressing. Record the date on the dressing label.",
    "Falls prevention. Patients over 65 get a falls risk score within 24 hours of admission. High-risk "
    "patients have a bed alarm and non-slip socks.",
]
QUESTION = "How often are central line dressings changed?"


def wait(app, cond: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sanctum-shots-"))
    os.environ["SANCTUM_HOME"] = str(work / "home")
    os.environ.setdefault("SANCTUM_PASSPHRASE", "screenshot passphrase")
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[key] = "1"

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    from app.core.privacy import netguard

    netguard.install()  # as the launcher does (app.cli.main), so the status bar shows the real state

    from app.gui.app import application, build
    from tests import docmaker

    app = application()
    window = build()
    window.resize(1240, 760)
    window.move(20, 20)
    window.show()
    window.start()
    checks: dict[str, object] = {}

    def shot(name: str) -> None:
        wait(app, lambda: False, 0.6)  # let the last repaint reach the screen
        screen = QGuiApplication.primaryScreen()
        image = screen.grabWindow(window.winId())
        image.save(str(out / name), "PNG")
        checks[name] = [image.width(), image.height()]

    checks["model_ready"] = wait(app, lambda: window.model_ready, 180)
    window.chat.input.setFocus()
    shot("01-first-run.png")

    docs = work / "docs"
    docs.mkdir()
    pdf = docmaker.make_pdf(docs / "Ward 4 protocols.pdf", PROTOCOL)
    docmaker.make_text(docs / "Handover checklist.txt", "Night shift handover happens at 07:00 in the ward office. "
                       "Read back every high-alert medication.")
    (docs / "Scanned consent form.pdf").write_bytes(b"%PDF-1.4\n%broken: this file was cut off during copying\n")
    window.add_paths([docs])
    states = lambda: {r.name: r.state for r in window.library.model.rows}  # noqa: E731
    checks["library_read"] = wait(app, lambda: window.docs.worker is None and states().get(pdf.name) == "ready"
                                  and states().get("Scanned consent form.pdf") == "failed", 300)

    window.chat.input.setPlainText(QUESTION)
    window.chat._on_input_submit()
    checks["answered"] = wait(app, lambda: window.chats.worker is None and not window.chat.busy, 300)
    answer = window.chat.messages[-1] if window.chat.messages else None
    checks["chips"] = [c.text() for c in answer.chips()] if answer else []
    shot("02-cited-answer.png")

    rows = window.library.model.rows
    failed = next((i for i, r in enumerate(rows) if r.state == "failed"), None)
    window.side.setCurrentWidget(window.library)
    if failed is not None:
        window.library.view.setCurrentIndex(window.library.model.index(failed))
    checks["failed_reason"] = rows[failed].detail if failed is not None else None
    shot("03-library-failed-file.png")

    if answer and answer.chips():
        answer.chips()[0].click()
        checks["pdf_shown"] = wait(app, lambda: window.source.location is not None
                                   and bool(window.source.pdf_view.marks), 60)
        checks["pdf_page"] = window.source.current_page()
        checks["cited_page"] = answer.citations[0].page
    shot("04-pdf-viewer.png")

    def dialog_shot(name: str, dialog) -> None:
        dialog.show()
        wait(app, lambda: False, 0.6)
        image = QGuiApplication.primaryScreen().grabWindow(dialog.winId())
        image.save(str(out / name), "PNG")
        checks[name] = [image.width(), image.height()]
        dialog.reject()

    made = window.export_dialog()
    if made is not None:
        dialog_shot("05-export-dialog.png", made[1])
    dialog_shot("06-settings-models.png", window.settings_dialog())  # the bundled models, one click each
    settings = window.settings_dialog()
    settings.tabs.setCurrentWidget(settings.privacy_page)
    settings.show()
    settings.privacy_page.verify_button.click()
    checks["audit_verified"] = wait(app, lambda: "intact" in settings.privacy_page.verify_result.text(), 30)
    dialog_shot("06-settings-privacy.png", settings)
    from app.core.privacy.lock import AppLock

    AppLock(window.engine.paths.root).set("screenshot lock", idle_minutes=10)
    window.privacy.sig_lock_changed.emit()
    window.states.lock()
    checks["locked"] = window.stack.currentWidget() is window.lock_screen
    window.lock_screen.field.setText("not the passphrase")
    window.lock_screen.unlock_button.click()
    checks["refused"] = wait(app, lambda: "Wrong passphrase" in window.lock_screen.message.text(), 30)
    shot("07-lock-screen.png")

    window.close()
    window.engine.close()
    ok = all(bool(checks.get(k)) for k in ("model_ready", "library_read", "answered", "chips", "failed_reason",
                                          "pdf_shown", "locked", "refused", "audit_verified"))
    ok = ok and checks.get("pdf_page") == checks.get("cited_page")
    checks["ok"] = ok
    print(json.dumps(checks))
    del Qt
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "sanctum-shots")))
