"""The privacy features in the desktop app, driven like a person would (offscreen, real engine and models)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import keyring
import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app.core.config import Settings
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel
from app.core.privacy import audit as events
from app.core.privacy.keys import KEYINFO, KeyManager
from app.core.privacy.lock import AppLock
from app.core.privacy.netguard import NetGuard
from app.gui.library.library_model import FAILED, READY
from app.gui.library.password import DocumentPasswordDialog
from app.gui.main_window import MainWindow
from app.gui.offline import OfflineIndicator
from app.gui.privacy.dialogs import AppLockDialog
from tests import docmaker
from tests.conftest import REPO, run_cli
from tests.test_gui import close_window, drop, make_engine, open_window, states

LOCK = "ward seven lock"


@pytest.fixture
def window(qtbot, home: Path, embedder: Embedder, chat: ChatModel):
    win = open_window(qtbot, make_engine(home, embedder, chat))
    yield win
    close_window(win)


def encrypted_pdf(path: Path, text: str, password: str) -> Path:
    """A password-protected PDF (AES-128, as Acrobat's "Encrypt with Password" writes it)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    pdf.set_encryption(owner_password="owner " + password, user_password=password,
                       encryption_method=EncryptionMethod.AES_128)
    pdf.output(str(path))
    return path


def audit_events(window: MainWindow) -> list[events.AuditRecord]:
    return list(window.engine.audit.records())


def answer_dialog(kind: type, answer: Callable[[object], None], seen: list[object]) -> None:
    """Answer the next visible dialog of ``kind`` from inside its own event loop."""

    def poll() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(30, poll)
            return
        seen.append(dialog)
        answer(dialog)

    QTimer.singleShot(30, poll)


# -- offline indicator ------------------------------------------------------------------------


def test_indicator_warns_when_no_guard_is_in_force(qtbot) -> None:
    for guard in (None, NetGuard()):  # none installed; one created but never installed (not proven)
        label = OfflineIndicator(guard=guard)
        qtbot.addWidget(label)
        assert "Network guard off" in label.text() and "Offline" not in label.text()
        assert "Warning" in label.toolTip()


INDICATOR_PROBE = r"""
import json, socket, threading
from app.core.privacy import netguard
guard = netguard.install()
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.gui.offline import OfflineIndicator
label = OfflineIndicator()
out = {"text": label.text(), "tip": label.toolTip()}
def attempt():
    try:
        socket.socket().connect(("10.9.8.7", 443))
    except OSError:
        pass
t = threading.Thread(target=attempt); t.start(); t.join()
for _ in range(100):
    app.processEvents()
    if "1 connection attempt" in label.toolTip():
        break
out["tip_after"] = label.toolTip()
print(json.dumps(out))
"""


def test_indicator_says_offline_under_the_real_guard_and_counts_attempts_live() -> None:
    # The guard cannot be taken out of a process once in, so this runs in its own process.
    proc = subprocess.run([sys.executable, "-c", INDICATOR_PROBE], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "Offline" in out["text"] and "guard off" not in out["text"]
    assert "No connection has been attempted" in out["tip"]
    assert "1 connection attempt was blocked" in out["tip_after"]


# -- export -----------------------------------------------------------------------------------


def test_export_from_the_dialog_removes_personal_data_and_is_audited(qtbot, window: MainWindow,
                                                                     tmp_path: Path) -> None:
    assert not window.chat.export_button.isEnabled(), "nothing to export in an empty conversation"
    store = window.engine.conversations()
    conv = store.create("Discharge of bed 12")
    store.append(conv.conv_id, "user",
                 "Mail the summary to jane.doe@example.org and call 020 7946 0958.")
    store.append(conv.conv_id, "assistant", "The discharge summary is ready for Jane.")
    window.chats.refresh_list()
    qtbot.waitUntil(lambda: window.conversations.model.rowCount() == 1, timeout=10_000)
    window.conversations.view.setCurrentIndex(window.conversations.model.index(0))
    qtbot.waitUntil(lambda: len(window.chat.messages) == 2, timeout=10_000)
    menu = window.conversations.context_menu()
    assert "Export…" in [a.text() for a in menu.actions()]
    assert window.chat.export_button.isVisible() and window.chat.export_button.isEnabled()

    conv_id, dialog = window.export_dialog(conv.conv_id)
    qtbot.addWidget(dialog)
    assert dialog.redact.isChecked() and "names" in dialog.redact.text() and "NHS numbers" in dialog.redact.text()
    dialog.choose(tmp_path / "bed-12.md")
    assert dialog.markdown.isChecked(), "the .md suffix did not choose Markdown"
    dialog.export_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    window.run_export(conv_id, dialog)
    qtbot.waitUntil(lambda: "Exported to" in window.statusBar().currentMessage(), timeout=20_000)
    text = (tmp_path / "bed-12.md").read_text(encoding="utf-8")
    assert "Discharge of bed 12" in text and "discharge summary is ready" in text
    assert "jane.doe@example.org" not in text and "7946 0958" not in text and "Jane" not in text
    assert "3 personal details removed (1 email, 1 name, 1 phone)" in window.statusBar().currentMessage()
    exported = [r for r in audit_events(window) if r.event == events.CONVERSATION_EXPORTED]
    assert exported and exported[-1].details["redacted"] is True


# -- app lock ---------------------------------------------------------------------------------


def test_app_lock_on_start_wrong_then_right_passphrase_and_idle_relock(qtbot, home: Path,
                                                                      embedder: Embedder, chat: ChatModel) -> None:
    AppLock(home).set(LOCK, idle_minutes=5)
    window = open_window(qtbot, make_engine(home, embedder, chat))
    try:
        screen = window.lock_screen
        assert window.stack.currentWidget() is screen
        assert not window.splitter.isVisible() and not window.chat.isVisible()
        assert not any(a.isEnabled() for a in window.content_actions)

        qtbot.keyClicks(screen.field, "not the passphrase")
        screen.unlock_button.click()
        qtbot.waitUntil(lambda: "Wrong passphrase" in screen.message.text(), timeout=20_000)
        assert window.stack.currentWidget() is screen
        assert events.APPLOCK_UNLOCK_FAILED in [r.event for r in audit_events(window)]

        screen.field.clear()
        qtbot.keyClicks(screen.field, LOCK)
        screen.unlock_button.click()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.splitter, timeout=20_000)
        assert window.chat.isVisible() and all(a.isEnabled() for a in window.content_actions)

        now = window.idle.clock()
        window.idle.clock = lambda: now + 4 * 60  # input 4 minutes ago: not yet
        assert not window.idle.check() and window.stack.currentWidget() is window.splitter
        window.idle.clock = lambda: now + 5 * 60 + 1
        assert window.idle.check()
        assert window.stack.currentWidget() is screen and not window.chat.isVisible()
        assert screen.field.text() == ""
    finally:
        close_window(window)


# -- settings: privacy tab --------------------------------------------------------------------


def test_privacy_settings_are_audited(qtbot, window: MainWindow, home: Path) -> None:
    dialog = window.settings_dialog()
    qtbot.addWidget(dialog)
    page = dialog.privacy_page
    assert page is not None and dialog.tabs.tabText(1) == "&Privacy"

    page.verify_button.click()
    qtbot.waitUntil(lambda: "intact" in page.verify_result.text(), timeout=20_000)

    page.full_questions.setChecked(True)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    window.apply_settings(dialog.result_settings())
    qtbot.waitUntil(lambda: window.lanes.inference.activeThreadCount() == 0, timeout=60_000)
    assert Settings.load(home / "settings.json").audit_full_questions is True
    change = [r for r in audit_events(window) if r.event == events.SETTINGS_CHANGED][-1]
    assert change.details["changes"]["audit_full_questions"] == {"from": False, "to": True}

    on = AppLockDialog("on", parent=page)
    qtbot.addWidget(on)
    on.new.setText(LOCK)
    on.again.setText(LOCK + "x")
    on.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert on.error.isVisibleTo(on) and "differ" in on.error.text()
    on.again.setText(LOCK)
    on.minutes.setValue(3)
    on.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert on.result() == on.DialogCode.Accepted
    page.apply_lock_dialog(on)
    qtbot.waitUntil(lambda: "App lock on" in page.lock_message.text(), timeout=20_000)
    assert AppLock(home).idle_minutes == 3 and window.idle.minutes == 3
    assert page.lock_off.isVisibleTo(page) and not page.lock_on.isVisibleTo(page)

    off = AppLockDialog("off", parent=page)
    qtbot.addWidget(off)
    off.current.setText("wrong")
    page.apply_lock_dialog(off)
    qtbot.waitUntil(lambda: "Wrong lock passphrase" in page.lock_message.text(), timeout=20_000)
    assert AppLock(home).enabled
    off.current.setText(LOCK)
    page.apply_lock_dialog(off)
    qtbot.waitUntil(lambda: "App lock off" in page.lock_message.text(), timeout=20_000)
    assert not AppLock(home).enabled and window.idle.minutes is None
    recorded = [r.event for r in audit_events(window)]
    assert events.APPLOCK_SET in recorded and events.APPLOCK_CLEARED in recorded


# -- wipe -------------------------------------------------------------------------------------


def key_in_keyring(home: Path) -> dict[str, str]:
    """Make the data key of ``home`` in the real keyring (as on a desktop); returns its key info."""
    KeyManager(home, mode="keyring").load()
    info = json.loads((home / KEYINFO).read_text())
    assert keyring.get_password(info["service"], info["account"])
    return info


def test_wipe_deletes_key_and_data_and_writes_nothing_after(qtbot, home: Path, embedder: Embedder,
                                                            chat: ChatModel) -> None:
    info = key_in_keyring(home)
    window = open_window(qtbot, make_engine(home, embedder, chat))
    qtbot.waitUntil(lambda: window.docs_label.text() == "0 documents", timeout=20_000)
    store = window.engine.conversations()
    store.append(store.create("Handover").conv_id, "user", "Who is on call tonight?")

    dialog = window.states.wipe_dialog()
    qtbot.addWidget(dialog)
    assert "cannot be undone" in dialog.text.text() and "original files are not touched" in dialog.text.text()
    qtbot.keyClicks(dialog.confirm, "wipe")
    assert not dialog.wipe_button.isEnabled(), "a lower-case answer must not be enough"
    dialog.confirm.clear()
    qtbot.keyClicks(dialog.confirm, "WIPE")
    assert dialog.wipe_button.isEnabled()

    window.states.wipe()
    assert list(home.iterdir()) == []
    assert keyring.get_password(info["service"], info["account"]) is None
    assert window.stack.currentWidget() is window.notice
    assert "All Sanctum data was deleted" in window.notice.title.text()
    assert window.notice.button("Close Sanctum") is not None
    window.notice.button("Close Sanctum").click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    window.engine.close()
    assert list(home.iterdir()) == [], "something was written after the wipe"


# -- a data folder that cannot be opened ------------------------------------------------------


def test_folder_whose_key_is_elsewhere_shows_what_to_do(qtbot, home: Path, embedder: Embedder,
                                                        chat: ChatModel) -> None:
    info = key_in_keyring(home)
    first = make_engine(home, embedder, chat)
    first.conversations().create("Private")
    first.close()
    keyring.delete_password(info["service"], info["account"])  # as on another computer
    window = open_window(qtbot, make_engine(home, embedder, chat))
    try:
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.notice, timeout=20_000)
        assert "cannot be opened on this computer" in window.notice.title.text()
        assert "not in this computer's keyring" in window.notice.body.text()
        assert window.notice.button("Try again") and window.notice.button("Wipe this data…")
        assert not window.splitter.isVisible()
    finally:
        close_window(window)


def test_damaged_settings_stop_the_app_with_a_message_not_a_traceback(home: Path) -> None:
    (home / "settings.json").write_text("{ not json", encoding="utf-8")
    result = run_cli("gui", "--quit-after", "1", env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 1
    assert "settings file" in result.stderr and "delete it to reset" in result.stderr
    assert "Traceback" not in result.stderr


# -- password-protected documents -------------------------------------------------------------


def test_encrypted_files_ask_for_their_password(qtbot, window: MainWindow, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = encrypted_pdf(docs / "a-referral.pdf", "Referral. The patient needs a cardiology review within two "
                        "weeks.", "referral-2024")
    plain = docmaker.make_docx(tmp_path / "plain.docx", ["Salary bands for ward staff"])
    docx = docmaker.encrypt_office(plain, docs / "b-salaries.docx", "s3cret")
    seen: list[object] = []
    replies = iter(["not it", "referral-2024", None])  # wrong, then right (the PDF); skip (the Word file)

    def reply(dialog: DocumentPasswordDialog) -> None:
        answer = next(replies)
        if answer is None:
            dialog.skip_button.click()
        else:
            dialog.field.setText(answer)
            dialog.open_button.click()
        if len(seen) < 3:
            answer_dialog(DocumentPasswordDialog, reply, seen)

    answer_dialog(DocumentPasswordDialog, reply, seen)
    drop(window, [docs])
    qtbot.waitUntil(lambda: states(window).get(pdf.name) == READY
                    and states(window).get(docx.name) == FAILED, timeout=120_000)
    assert len(seen) == 3
    first, second, third = seen
    assert "a-referral.pdf" in first.title.text()
    assert not first.error.isVisibleTo(first) and second.error.isVisibleTo(second), "a wrong password was not said"
    assert "b-salaries.docx" in third.title.text()
    row = next(r for r in window.library.model.rows if r.name == docx.name)
    assert "password required" in row.summary()
