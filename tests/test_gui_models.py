"""The Models window and the per-conversation model chooser, in the real app (offscreen)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel
from app.gui.chat.message_widget import MessageWidget
from app.gui.library.library_model import READY
from app.gui.main_window import MainWindow
from app.gui.models.models_dialog import ModelsDialog, QuantizeDialog
from tests.ggufmaker import tiny_llama
from tests.test_gui import FACT, close_window, make_engine, open_window, protocol_pdf, states, wait_answer

SMOL_KEY = "smollm2-135m-instruct.q4_1"


@pytest.fixture
def window(qtbot, home: Path, embedder: Embedder, chat: ChatModel) -> Iterator[MainWindow]:
    win = open_window(qtbot, make_engine(home, embedder, chat))
    yield win
    close_window(win)


def _dialog(qtbot, window: MainWindow) -> ModelsDialog:
    dialog = window.models.dialog_for(window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() >= 2 and not dialog.cancel_button.isVisible(), timeout=60_000)
    return dialog


def _row(dialog: ModelsDialog, key: str) -> int:
    return next(i for i, v in enumerate(dialog.views) if v.key == key)


def test_models_window_lists_adds_defaults_and_quantizes(qtbot, window: MainWindow, small_chat_model_path: Path,
                                                         tmp_path: Path) -> None:
    dialog = _dialog(qtbot, window)
    assert dialog.table.item(0, 1).text() == "Qwen2.5 Coder 1.5B Instruct GGUF"
    assert dialog.table.item(0, 0).text() == "✓"
    assert dialog.table.item(0, 3).text() == "1.5B" and dialog.table.item(0, 6).text() == "yes"

    dialog.sig_add.emit(str(small_chat_model_path), False)
    qtbot.waitUntil(lambda: any(v.key == SMOL_KEY for v in dialog.views), timeout=60_000)
    row = _row(dialog, SMOL_KEY)
    assert [dialog.table.item(row, c).text() for c in (2, 3, 4, 5, 7)] == ["smollm2", "135M", "Q4_1", "8,192",
                                                                         "apache-2.0"]
    dialog.table.selectRow(row)
    assert "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53" in dialog.details.text()
    assert dialog.remove_button.isEnabled() and dialog.quantize_button.isEnabled()
    dialog.default_button.click()
    qtbot.waitUntil(lambda: window.engine.settings.chat_model == str(small_chat_model_path), timeout=30_000)
    qtbot.waitUntil(lambda: dialog.table.item(_row(dialog, SMOL_KEY), 0).text() == "✓", timeout=30_000)
    # The conversation's chooser follows the library.
    qtbot.waitUntil(lambda: window.chat.model_box.findData(SMOL_KEY) >= 0, timeout=30_000)
    qtbot.waitUntil(lambda: str(window.chat.model_box.itemData(0, Qt.ItemDataRole.ToolTipRole)).startswith(
        "Smollm2 135M"), timeout=30_000)

    # An already quantized model: the dialog explains and asks before requantizing.
    quant = QuantizeDialog(dialog.views[_row(dialog, SMOL_KEY)], dialog)
    assert not quant.requantize.isHidden() and not quant.requantize.isChecked()
    # A small F16 model quantized from the window, which stays responsive meanwhile.
    f16 = tiny_llama(tmp_path / "ward-f16.gguf", f16=True, template=None)
    dialog.sig_add.emit(str(f16), False)
    qtbot.waitUntil(lambda: any(v.key == "ward-f16" for v in dialog.views), timeout=60_000)
    dialog.sig_quantize.emit("ward-f16", "Q8_0", False)
    qtbot.waitUntil(lambda: "Quantized to Q8_0" in dialog.status.text(), timeout=120_000)
    assert "added as 'ward-f16-q8_0'" in dialog.status.text()
    qtbot.waitUntil(lambda: any(v.key == "ward-f16-q8_0" for v in dialog.views), timeout=30_000)
    assert (tmp_path / "ward-f16-Q8_0.gguf").exists()
    dialog.sig_quantize.emit("ward-f16-q8_0", "Q4_K_M", False)
    qtbot.waitUntil(lambda: "already quantized" in dialog.status.text(), timeout=60_000)
    dialog.close()


@pytest.mark.slow
def test_a_conversation_answers_with_its_own_model_and_models_compare(qtbot, window: MainWindow,
                                                                      small_chat_model_path: Path,
                                                                      tmp_path: Path) -> None:
    window.engine.model_service().add(small_chat_model_path, copy=False)
    window.refresh_model_choices()
    qtbot.waitUntil(lambda: window.chat.model_box.findData(SMOL_KEY) >= 0, timeout=30_000)
    window.add_paths([protocol_pdf(tmp_path)])
    qtbot.waitUntil(lambda: states(window).get("ward-protocols.pdf") == READY, timeout=120_000)

    box = window.chat.model_box
    box.setCurrentIndex(box.findData(SMOL_KEY))
    box.activated.emit(box.currentIndex())
    window.chats.ask("How often are central line dressings changed?")
    wait_answer(qtbot, window)
    conv = window.chats.current
    assert conv is not None and conv.model_key == SMOL_KEY
    assert window.engine.chat_model(SMOL_KEY).path == small_chat_model_path  # the model that answered is loaded
    qtbot.waitUntil(lambda: window.engine.conversations().get(conv.conv_id).model_key == SMOL_KEY, timeout=10_000)
    window.chats.new_conversation()
    assert box.currentData() is None  # a new conversation starts on the default model
    window.chats.open_conversation(conv.conv_id)
    qtbot.waitUntil(lambda: box.currentData() == SMOL_KEY, timeout=10_000)

    questions = tmp_path / "ward.jsonl"
    questions.write_text(json.dumps({"q": "How often are central line dressings changed?",
                                     "answers": ["7 days"], "impossible": False,
                                     "file": "ward-protocols.pdf"}) + "\n")
    dialog = _dialog(qtbot, window)
    dialog.sig_compare.emit(str(questions), [SMOL_KEY, "qwen-1.5b"])
    qtbot.waitUntil(lambda: dialog.results.isVisible(), timeout=600_000)
    headers = [dialog.results.horizontalHeaderItem(c).text() for c in range(dialog.results.columnCount())]
    assert headers == ["Smollm2 135M 8k Lc100K Mix1 Ep2", "Qwen2.5 Coder 1.5B Instruct GGUF"]
    assert dialog.lower.currentIndex() == 1  # the comparison tab is shown
    labels = [dialog.results.verticalHeaderItem(r).text() for r in range(dialog.results.rowCount())]
    assert labels[0] == "answerable right" and "peak memory (RSS) MB" in labels
    assert dialog.results.item(labels.index("model file MB"), 0).text() == "98"
    assert FACT  # the same ward protocol as the main GUI test
    dialog.close()


def test_reasoning_is_folded_under_the_answer(qtbot) -> None:
    w = MessageWidget("assistant", "The dose is 5 mg [1].")
    qtbot.addWidget(w)
    w.show()
    w.set_reasoning("The user asks about the dose. Excerpt 1 says 5 mg.")
    assert w.reasoning_button.isVisible() and not w.reasoning.isVisible()
    assert "reasoning (11 words, not part of the answer)" in w.reasoning_button.text()
    w.reasoning_button.click()
    assert w.reasoning.isVisible() and w.reasoning_button.text().startswith("▾")
    assert "Excerpt 1" not in w.text and "Excerpt 1" not in w.copy_text()


def test_settings_lead_to_the_models_window(qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(window.models, "open", opened.append)  # instead of a modal window in a test
    settings = window.settings_dialog()
    qtbot.addWidget(settings)
    button = next(b for b in settings.findChildren(QPushButton) if b.text() == "Models…")
    button.click()
    assert opened == [settings]
