"""Text from documents is shown as text: a file named like HTML is not rendered (nor does it make
Qt read /dev/zero for a picture), and an answer's Markdown loads no resource."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt

from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel
from app.core.storage.conversations import Citation
from app.gui.chat.message_widget import MessageWidget
from tests import docmaker
from tests.test_gui import close_window, make_engine, open_window

# A file name cannot hold "/", so the issue's `<img src="/dev/zero">.txt` is made of folders: the
# file's path ends in it (tooltips and details show paths); a second file's own name is a tag.
TAGGED_PATH = '<img src="/dev/zero">.txt'
TAGGED_NAME = '<img src="zero" width="4000">.txt'


def _grab_quickly(widget) -> None:
    started = time.monotonic()
    assert not widget.grab().isNull()
    assert time.monotonic() - started < 10, "painting took too long: did it load a resource?"


def test_a_file_named_like_html_is_shown_literally_everywhere(qtbot, home: Path, tmp_path: Path,
                                                             embedder: Embedder, chat: ChatModel) -> None:
    docs = tmp_path / "docs"
    (docs / '<img src="' / "dev").mkdir(parents=True)
    nested = docmaker.make_text(docs / '<img src="' / "dev" / 'zero">.txt', "The sluice room is cleaned at 06:00.")
    named = docmaker.make_text(docs / TAGGED_NAME, "The linen cupboard is restocked on Tuesdays.")
    assert str(nested).endswith(TAGGED_PATH)
    engine = make_engine(home, embedder, chat)
    assert [o.status for o in engine.ingest_service().ingest([docs])] == ["ingested", "ingested"]
    window = open_window(qtbot, engine)
    try:
        qtbot.waitUntil(lambda: window.docs_label.text() == "2 documents", timeout=30_000)
        # The library: its rows, their tooltips and the details of the selected document.
        model = window.library.model
        rows = {model.data(model.index(i, 0), Qt.ItemDataRole.DisplayRole): model.index(i, 0)
                for i in range(model.rowCount())}
        assert set(rows) == {TAGGED_NAME, 'zero">.txt'}
        tip = model.data(rows['zero">.txt'], Qt.ItemDataRole.ToolTipRole)
        assert "&lt;img src=&quot;/dev/zero&quot;&gt;.txt" in tip and "<img" not in tip
        for index in rows.values():
            window.library.view.setCurrentIndex(index)
            qtbot.waitUntil(lambda: window.library.details.isVisible(), timeout=5_000)
            assert "<img" not in window.library.details.text()
            _grab_quickly(window.library)

        # The source viewer, through the window's own path (the passage is located in a worker).
        label = '<img src="/dev/zero">'  # a sheet or section label is document text too
        for path, text in ((named, "The linen cupboard is restocked on Tuesdays."),
                           (nested, "The sluice room is cleaned at 06:00.")):
            window.open_citation(Citation(n=1, path=str(path), page=None, label=label, text=text))
            title = window.source.title
            assert title.textFormat() == Qt.TextFormat.PlainText and title.text() == path.name
            assert window.source.where.textFormat() == Qt.TextFormat.RichText
            assert "&lt;img" in window.source.where.text() and "<img" not in window.source.where.text()
            _grab_quickly(window.source)
            qtbot.waitUntil(lambda: "opening" not in window.source.where.text(), timeout=30_000)
            assert title.textFormat() == Qt.TextFormat.PlainText and title.text() == path.name
            assert "<img" not in window.source.where.text()
            assert "<img" not in title.toolTip()
            _grab_quickly(window.source)

        # A conversation titled with it.
        window.chat.set_title(TAGGED_PATH)
        assert window.chat.title.textFormat() == Qt.TextFormat.PlainText
        assert "<img" not in window.chat.title.toolTip()
        _grab_quickly(window.chat)
    finally:
        close_window(window)


def test_markdown_answers_load_no_picture_and_show_raw_html_as_text(qtbot) -> None:
    answer = ('The room is cleaned at **06:00** ![chart](/dev/zero) <img src="/dev/zero"> '
              '<a href="file:///etc/passwd">x</a>\n\n![ref][z]\n\n[z]: /dev/zero')
    widget = MessageWidget("assistant", answer)
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    widget.show()
    shown = widget.body.text()
    assert "06:00" in shown and "<b>" in shown or "font-weight:700" in shown  # Markdown still renders
    assert "<img" not in shown and "dev/zero" in shown.replace("&quot;", '"')  # raw HTML shown as text
    _grab_quickly(widget)
    widget.append_text(" ![more](/dev/zero)")
    assert "<img" not in widget.body.text()
    _grab_quickly(widget)
