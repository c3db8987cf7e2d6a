"""The desktop app driven like a person would, offscreen, with the real engine and models."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel

from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel
from app.gui.app import build
from app.gui.library.library_model import FAILED, READY
from app.gui.main_window import MainWindow
from app.gui.passphrase import PassphraseBroker, PassphraseDialog
from tests import docmaker

PASS = "gui test passphrase"
FACT = ("Central line dressings are changed every 7 days, or at once when damp, loosened or soiled. "
        "Use chlorhexidine 2 percent in 70 percent alcohol to clean the site.")


def make_engine(home: Path, embedder: Embedder, chat: ChatModel, settings: Settings | None = None) -> Engine:
    return Engine(home, settings=settings or Settings.load(home / "settings.json"), embedder=embedder, chat=chat,
                  passphrase=lambda prompt, new: PASS)


def open_window(qtbot, engine: Engine) -> MainWindow:
    window = build(engine)
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.model_ready, timeout=120_000)
    return window


def close_window(window: MainWindow) -> None:
    window.close()
    window.engine.close()


@pytest.fixture
def window(qtbot, home: Path, embedder: Embedder, chat: ChatModel) -> Iterator[MainWindow]:
    win = open_window(qtbot, make_engine(home, embedder, chat))
    yield win
    close_window(win)


def protocol_pdf(folder: Path) -> Path:
    return docmaker.make_pdf(folder / "ward-protocols.pdf", [
        "Ward 4 protocols. Hand hygiene before and after every patient contact. Visitors sign in at the desk.",
        "Central line care. " + FACT,
        "Falls prevention. Patients over 65 get a falls risk score within 24 hours of admission.",
    ])


def drop(window: MainWindow, paths: list[Path]) -> None:
    """A real drag-and-drop of files onto the window (the events Qt sends for one)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = QPoint(window.width() // 2, window.height() // 2)
    enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window refused the drag"
    assert window.overlay.isVisible(), "no drop hint shown while dragging"
    event = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    assert not window.overlay.isVisible()


def states(window: MainWindow) -> dict[str, str]:
    return {Path(r.path).name: r.state for r in window.library.model.rows}


def ask(qtbot, window: MainWindow, question: str) -> None:
    window.chat.input.setFocus()
    qtbot.keyClicks(window.chat.input, question)
    qtbot.keyClick(window.chat.input, Qt.Key.Key_Return)


def wait_answer(qtbot, window: MainWindow, timeout: int = 180_000) -> None:
    qtbot.waitUntil(lambda: window.chats.worker is None and not window.chat.busy, timeout=timeout)


def test_drop_ask_stream_cite_and_open_the_page(qtbot, window: MainWindow, tmp_path: Path) -> None:
    pdf = protocol_pdf(tmp_path)
    qtbot.waitUntil(lambda: "No documents yet" in window.library.summary.text(), timeout=30_000)
    drop(window, [pdf])
    qtbot.waitUntil(lambda: states(window).get(pdf.name) == READY, timeout=120_000)
    qtbot.waitUntil(lambda: window.docs_label.text() == "1 document", timeout=10_000)
    assert "1 document" in window.chat.welcome.hint.text()

    batches: list[str] = []
    ask(qtbot, window, "How often are central line dressings changed?")
    assert window.chat.input.toPlainText() == "", "Enter did not send the question"
    assert window.chat.busy and window.chat.send_button.text() == "Stop"
    window.chats.worker.signals.sig_text.connect(batches.append)
    wait_answer(qtbot, window)

    answer = window.chat.messages[-1]
    assert batches, "the answer did not stream"
    assert len(batches) >= 2 and "".join(batches).strip() in answer.text
    assert "7 days" in answer.text or "seven days" in answer.text.lower()
    chips = answer.chips()
    assert chips, "no citation chip under the answer"
    assert chips[0].text().endswith("ward-protocols.pdf · Page 2")
    assert answer.copy_button.isVisible() and answer.regen_button.isVisible()
    assert window.conversations.model.rowCount() == 1
    assert window.conversations.model.items[0].title == "How often are central line dressings changed?"

    qtbot.mouseClick(chips[0], Qt.MouseButton.LeftButton)
    assert window.side.currentWidget() is window.source
    qtbot.waitUntil(lambda: window.source.location is not None, timeout=60_000)
    assert window.source.stack.currentWidget() is window.source.pdf_view
    marks = window.source.pdf_view.marks
    assert marks and {page for page, _, _ in marks} == {1}, "the passage is not marked on its page"
    assert sum(len(polygons) for _, polygons, _ in marks) >= 3, "not every line of the passage is marked"
    qtbot.waitUntil(lambda: window.source.current_page() == 2, timeout=10_000)


def test_failed_file_is_listed_with_its_reason(qtbot, window: MainWindow, tmp_path: Path) -> None:
    good = docmaker.make_text(tmp_path / "handover.txt", "Night shift handover happens at 07:00 in the ward office.")
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4\n this is not really a PDF \x00\x01\x02")
    drop(window, [tmp_path])  # a whole folder
    qtbot.waitUntil(lambda: states(window).get("handover.txt") == READY and states(window).get("scan.pdf") == FAILED,
                    timeout=120_000)
    qtbot.waitUntil(lambda: not window.library.progress_box.isVisible(), timeout=30_000)
    row = next(r for r in window.library.model.rows if r.name == "scan.pdf")
    assert row.detail and row.summary().startswith("Could not be read: ")
    assert "could not be read" in window.library.summary.text()
    index = window.library.model.index(window.library.model.rows.index(row))
    window.library.view.setCurrentIndex(index)
    assert window.library.details.isVisible() and row.detail.split(" ")[0] in window.library.details.text()
    assert good.exists()


def test_stop_mid_answer_keeps_what_was_written(qtbot, home: Path, embedder: Embedder, small_chat: ChatModel,
                                                tmp_path: Path) -> None:
    window = open_window(qtbot, make_engine(home, embedder, small_chat))  # stopping, not the answer's quality
    try:
        _stop_mid_answer(qtbot, window, tmp_path)
    finally:
        close_window(window)


def _stop_mid_answer(qtbot, window: MainWindow, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "history.txt", "The hospital was founded in 1872 by the Sisters of Mercy. "
                             "It grew from twelve beds to four hundred over a century. " * 8)
    drop(window, [doc])
    qtbot.waitUntil(lambda: states(window).get(doc.name) == READY, timeout=120_000)
    batches: list[str] = []
    ask(qtbot, window, "Tell me the whole history of the hospital in great detail, decade by decade.")
    window.chats.worker.signals.sig_text.connect(batches.append)
    qtbot.waitUntil(lambda: bool(batches), timeout=120_000)
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)  # the Send button is Stop now
    wait_answer(qtbot, window, timeout=30_000)
    answer = window.chat.messages[-1]
    assert "Stopped" in answer.status.text()
    assert window.chat.send_button.text() == "Send"
    saved = window.engine.conversations().messages(window.chats.current.conv_id)
    assert saved[-1].role == "assistant" and saved[-1].cancelled and saved[-1].text == answer.text


def test_conversation_and_draft_survive_a_restart(qtbot, home: Path, embedder: Embedder, chat: ChatModel,
                                                  tmp_path: Path) -> None:
    first = open_window(qtbot, make_engine(home, embedder, chat))
    pdf = protocol_pdf(tmp_path)
    drop(first, [pdf])
    qtbot.waitUntil(lambda: states(first).get(pdf.name) == READY, timeout=120_000)
    ask(qtbot, first, "How often are central line dressings changed?")
    wait_answer(qtbot, first)
    answer_text = first.chat.messages[-1].text
    qtbot.keyClicks(first.chat.input, "And what about PICC lines")
    first.resize(760, 560)  # fits the offscreen screen, so the geometry is restored unclamped
    qtbot.waitUntil(lambda: first.splitter.width() < 770)
    first.splitter.set_wanted([180, 330, 230])  # the conversation keeps half: the others give way
    sizes, size = first.splitter.sizes(), first.size()
    assert sizes[1] >= 380 and sizes != [180, 330, 230]
    close_window(first)

    raw = (home / "conversations.sqlite3").read_bytes()
    assert b"central line" not in raw.lower() and b"PICC" not in raw, "conversation text on disk in plaintext"

    second = open_window(qtbot, make_engine(home, embedder, chat))
    try:
        qtbot.waitUntil(lambda: len(second.chat.messages) == 2, timeout=30_000)
        assert second.conversations.model.rowCount() == 1
        assert second.chat.full_title() == "How often are central line dressings changed?"
        assert second.chat.messages[1].text == answer_text
        assert second.chat.messages[1].chips(), "citations were not kept"
        assert second.chat.input.toPlainText() == "And what about PICC lines"
        assert second.size() == size and second.splitter.sizes() == sizes
    finally:
        close_window(second)


def test_settings_are_saved_and_used(qtbot, window: MainWindow, home: Path) -> None:
    dialog = window.settings_dialog()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "Qwen2.5 Coder 1.5B" in dialog.model_info.text(), timeout=30_000)
    assert "Q4_K_M" in dialog.model_info.text() and "1,117 MB" in dialog.model_info.text()
    dialog.top_k.setValue(7)
    dialog.temperature.setValue(0.3)
    dialog.context.setValue(3072)
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    chosen = dialog.result_settings()
    assert chosen is not None
    window.apply_settings(chosen)
    qtbot.waitUntil(lambda: window.lanes.inference.activeThreadCount() == 0, timeout=60_000)
    saved = Settings.load(home / "settings.json")
    assert (saved.top_k, saved.temperature, saved.context_size) == (7, 0.3, 3072)
    assert window.engine.settings == saved
    assert window.engine.ask_service().settings.top_k == 7

    bad = window.settings_dialog()
    qtbot.addWidget(bad)
    bad.model_path.setText(str(home / "missing.gguf"))
    bad.model_path.editingFinished.emit()
    qtbot.waitUntil(lambda: "missing.gguf" in bad.model_info.text(), timeout=30_000)


def test_passphrase_is_asked_on_the_ui_thread_for_a_worker(qtbot, monkeypatch) -> None:
    monkeypatch.delenv("SANCTUM_PASSPHRASE", raising=False)
    broker = PassphraseBroker()
    answer: list[str | None] = []
    seen: list[str] = []

    def dialog() -> PassphraseDialog | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, PassphraseDialog) and w.isVisible()),
                    None)

    def answer_it() -> None:  # runs inside the dialog's own event loop
        d = dialog()
        if d is None:
            QTimer.singleShot(50, answer_it)
            return
        ok = d.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        d.field.setText("short")
        d.again.setText("short")
        ok.click()
        seen.append(d.error.text() if d.isVisible() else "closed")
        d.field.setText("correct horse battery")
        d.again.setText("correct horse battery")
        ok.click()

    QTimer.singleShot(50, answer_it)
    thread = threading.Thread(target=lambda: answer.append(broker("Choose a passphrase", True)))
    thread.start()
    qtbot.waitUntil(lambda: bool(answer), timeout=20_000)
    thread.join(5)
    assert seen and "8 characters" in seen[0], "a too short passphrase was accepted"
    assert answer == ["correct horse battery"]


def test_settings_validation_is_shown(qtbot, window: MainWindow) -> None:
    dialog = window.settings_dialog()
    qtbot.addWidget(dialog)
    dialog._original = dataclasses.replace(window.engine.settings, chunk_overlap=10_000)
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    assert dialog.result_settings() is None and "chunk_overlap" in dialog.error.text()


def test_settings_offer_each_bundled_model_with_its_speed_here(qtbot, window: MainWindow) -> None:
    from app.core.models import shipped as models

    other = next(m for m in models.SHIPPED_CHAT_MODELS if m is not models.DEFAULT_SHIPPED)
    other_path = str(models.shipped_models_dir() / other.file.filename)
    window.engine.speeds.record(other_path, 4.2, 18.0)
    dialog = window.settings_dialog()
    qtbot.addWidget(dialog)
    titles = [button.text() for button, _ in dialog.shipped_buttons]
    assert len(titles) == len(models.SHIPPED_CHAT_MODELS) and any("(recommended)" in t for t in titles)
    notes = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "4.2 s on this computer" in notes and "Not used on this computer yet" in notes
    button = next(b for b, path in dialog.shipped_buttons if path == other_path)
    assert not button.isChecked()
    button.click()
    assert dialog.model_path.text() == other_path
    size = f"{other.file.size / 1e6:,.0f} MB"
    qtbot.waitUntil(lambda: size in dialog.model_info.text(), timeout=30_000)
    assert dialog.result_settings() is None  # nothing saved until Save
