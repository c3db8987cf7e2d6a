"""What the user sees of an answer's evidence and verdict, the opening library and the column widths.

Real windows offscreen over real engines; the answers come from a scripted stand-in for the ask
service (the same events the real pipeline yields), so the evidence and the verdict are known.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage

from app.core.answer.service import Done, Event, Evidence, Passage, Sources, Token
from app.core.ingest.parsers.pdf import parse_pdf
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel, Message
from app.gui.main_window import MainWindow
from app.gui.viewer.source_panel import MARK_STRONG
from tests.test_gui import FACT, ask, close_window, make_engine, open_window, protocol_pdf, wait_answer

NOT_FOUND = "Not found in your documents"


class ScriptedAsk:
    """Stands in for :class:`app.core.answer.service.AskService`: yields the events of the answers given, in turn."""

    def __init__(self, answers: list[Done]) -> None:
        self.answers = list(answers)

    def ask(self, question: str, *, history: Sequence[Message] = (), doc_ids: Sequence[str] | None = None,
            libraries: Sequence[str] | None = None, cancelled: Callable[[], bool] | None = None) -> Iterator[Event]:
        done = self.answers.pop(0)
        yield Sources(list(done.citations))
        for word in done.answer.split(" "):
            yield Token(word + " ")
        yield done


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    return protocol_pdf(tmp_path)


def passage_of(pdf: Path) -> Passage:
    """The cited passage: page 2 of the PDF, exactly as the parser reads it (lines and all)."""
    text = parse_pdf(pdf).sections[1].text
    return Passage(n=1, chunk_id="c2", doc_id="d1", path=str(pdf), page=2, label="Page 2", text=text, score=0.8)


def answers(pdf: Path) -> tuple[list[Done], str]:
    """A supported answer with its evidence, an unsupported one, and a decline; and the quote."""
    p = passage_of(pdf)
    start = p.text.index("Central line dressings")
    quote = p.text[start:p.text.index("soiled.") + len("soiled.")]
    assert "\n" in quote, "the quote should run over more than one line of the page"
    evidence = Evidence(n=1, path=p.path, page=2, label="Page 2", text=" ".join(quote.split()), quote=quote)
    return [
        Done("Every 7 days, or at once when damp, loosened or soiled [1].", [p], "scripted", evidence=[evidence],
             supported=True),
        Done("Flush the line with 10 ml of heparin 100 units/ml [1].", [p], "scripted", supported=False),
        Done("The documents do not say how often the ward is cleaned.", [], "scripted", supported=None,
             declined=True),
    ], quote


def marked_lines(window: MainWindow) -> list[tuple[int, int, int, int]]:
    """The strongly marked rectangles of the PDF view that lie over text, as (x, y, w, h).

    The view is painted and read back: a rectangle counts when its inside is the marker's yellow
    and has dark pixels (the text) in it, so a mark drawn beside the text does not count.
    """
    view = window.source.pdf_view
    image: QImage = view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    found = []
    for rect, colour in view.mark_rects():
        if colour != MARK_STRONG:
            continue
        r = rect.toRect().adjusted(2, 2, -2, -2)
        yellow = dark = total = 0
        for x in range(r.left(), r.right(), 2):
            for y in range(r.top(), r.bottom()):
                c = QColor(image.pixel(int(x * ratio), int(y * ratio)))
                total += 1
                yellow += c.red() > 200 and c.green() > 170 and c.blue() < 190
                dark += c.red() + c.green() + c.blue() < 360
        if total and yellow / total > 0.4 and dark > 0:
            found.append((r.x(), r.y(), r.width(), r.height()))
    return found


def test_evidence_and_warning_are_shown_kept_and_lead_to_the_page(qtbot, home: Path, embedder: Embedder,
                                                                   chat: ChatModel, pdf: Path) -> None:
    scripted, quote = answers(pdf)
    window = open_window(qtbot, make_engine(home, embedder, chat))
    try:
        service = ScriptedAsk(scripted)
        window.engine.ask_service = lambda *_a, **_k: service  # type: ignore[method-assign]
        for question in ("How often are central line dressings changed?", "What is the heparin flush dose?",
                         "How often is the ward cleaned?"):
            ask(qtbot, window, question)
            wait_answer(qtbot, window, timeout=30_000)
        supported, unsupported, declined = (w for w in window.chat.messages if w.role == "assistant")

        [shown] = supported.quotes()
        assert shown.isVisible() and "Central line dressings are changed every 7 days" in shown.text()
        assert "— ward-protocols.pdf, Page 2" in shown.text()
        assert not supported.verdict.isVisible()
        assert unsupported.verdict.isVisible() and NOT_FOUND in unsupported.verdict.text()
        assert unsupported.copy_text().endswith(f"({NOT_FOUND} — check before relying on it.)")
        assert not declined.verdict.isVisible() and not declined.quotes(), "a decline is not a warning"

        # The quote leads to its page, every line of it marked over the text.
        qtbot.mouseClick(shown, Qt.MouseButton.LeftButton)
        assert window.side.currentWidget() is window.source
        qtbot.waitUntil(lambda: window.source.location is not None, timeout=30_000)
        assert window.source.pdf_view.marks and {p for p, _, _ in window.source.pdf_view.marks} == {1}
        qtbot.waitUntil(lambda: window.source.current_page() == 2, timeout=10_000)
        qtbot.waitUntil(lambda: len(marked_lines(window)) == len(quote.splitlines()), timeout=10_000)
        assert "<b>Central line dressings" in window.source.quote.text()

        # A source chip marks its whole passage: all lines, not only the first.
        qtbot.mouseClick(supported.chips()[0], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(window.source.pdf_view.marks) == 1, timeout=30_000)  # the passage alone
        lines = len(textwrap.wrap("Central line care. " + FACT, 80))
        assert lines >= 3
        qtbot.waitUntil(lambda: len(marked_lines(window)) == lines, timeout=10_000)
    finally:
        close_window(window)

    again = open_window(qtbot, make_engine(home, embedder, chat))
    try:
        qtbot.waitUntil(lambda: len(again.chat.messages) == 6, timeout=30_000)
        supported, unsupported, declined = (w for w in again.chat.messages if w.role == "assistant")
        assert [q.evidence.quote for q in supported.quotes()] == [quote]
        qtbot.waitUntil(lambda: supported.quotes()[0].isVisible() and unsupported.verdict.isVisible())
        assert NOT_FOUND in unsupported.verdict.text() and not supported.verdict.isVisible()
        assert not declined.verdict.isVisible()
    finally:
        close_window(again)


def test_the_library_says_it_is_opening_until_the_documents_arrive(qtbot, home: Path, embedder: Embedder,
                                                                  chat: ChatModel) -> None:
    from app.gui.app import build

    window = build(make_engine(home, embedder, chat))
    qtbot.addWidget(window)
    window.show()
    try:
        assert "Opening your library" in window.library.summary.text()
        assert window.library.opening_bar.isVisible()
        assert "No documents yet" not in window.library.summary.text()
        window.start()
        qtbot.waitUntil(lambda: not window.library.opening, timeout=60_000)
        assert "No documents yet" in window.library.summary.text()
        assert not window.library.opening_bar.isVisible()
        window.library.set_opened(error="the disk is not there")
        assert "could not be read: the disk is not there" in window.library.summary.text()
        qtbot.waitUntil(lambda: window.model_ready, timeout=120_000)
    finally:
        close_window(window)


@pytest.mark.parametrize("width", [800, 1024, 1280])
def test_the_conversation_keeps_half_the_window(qtbot, home: Path, embedder: Embedder, chat: ChatModel,
                                                pdf: Path, width: int) -> None:
    # A layout saved by an earlier version, where the library took most of the width.
    first = open_window(qtbot, make_engine(home, embedder, chat))
    first.resize(1300, 700)
    qtbot.waitUntil(lambda: first.width() == 1300)
    first.splitter.setSizes([300, 300, 700])
    close_window(first)
    ini = QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
    ini.remove("window/columns")  # what earlier versions did not write
    ini.sync()

    window = open_window(qtbot, make_engine(home, embedder, chat))
    try:
        window.resize(width, 700)
        qtbot.waitUntil(lambda: window.width() == width)
        qtbot.wait(50)

        def check(what: str) -> None:
            sizes = window.splitter.sizes()
            assert window.chat.width() >= width / 2, (what, sizes)
            assert window.side.width() >= window.side.minimumSizeHint().width(), (what, sizes)
            assert window.library.add_files_button.width() >= window.library.add_files_button.sizeHint().width()

        check("restored")
        assert window.splitter.sizes()[0] > 0 and window.splitter.sizes()[2] > 0
        window.splitter.moveSplitter(int(width * 0.3), 2)  # the user drags the library's edge far left
        check("dragged")
        window.open_citation(passage_to_citation(passage_of(pdf)))
        qtbot.waitUntil(lambda: window.source.location is not None, timeout=30_000)
        check("source open")
        assert window.side.width() >= 340, "the page is too narrow to read"
        window.resize(width + 400, 700)
        qtbot.waitUntil(lambda: window.width() == width + 400)
        window.resize(width, 700)
        qtbot.waitUntil(lambda: window.width() == width)
        check("narrowed again")
        window.show_conversations()
        assert window.splitter.sizes()[0] > 0
        check("conversations shown")
    finally:
        close_window(window)


def passage_to_citation(p: Passage):
    from app.gui.chat.workers import to_citation

    return to_citation(p)
