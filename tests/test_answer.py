"""Answering: prompts fit the window, generation can be stopped, the model has one user at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from app.core.answer import NO_DOCUMENTS, Done, Passage, Sources, Token, cited_passages
from app.core.config import Settings
from app.core.embedder import Embedder
from app.core.engine import Engine
from app.core.llm import ChatModel, GenerationStats, Message
from tests import docmaker
from tests.conftest import typed_passphrase

LONG_FACTS = [f"Protocol {i}: the dressing for wound type {i} is changed every {i % 5 + 1} days, "
              f"using gauze of size {i * 3} centimetres and saline rinse. " * 6 for i in range(30)]


def test_empty_library_says_so_without_the_model(engine: Engine) -> None:
    service = engine.ask_service()
    service._model_provider = lambda: (_ for _ in ()).throw(AssertionError("the model was asked"))
    events = list(service.ask("What is the dose?"))
    assert isinstance(events[-1], Done) and events[-1].answer == NO_DOCUMENTS
    assert not any(isinstance(e, Token) for e in events)


def test_prompt_fits_a_small_context_window(home: Path, tmp_path: Path, embedder: Embedder,
                                            chat_model_path: Path) -> None:
    small = ChatModel(chat_model_path, context_size=1024, threads=2)
    try:
        settings = Settings(context_size=1024, max_answer_tokens=200, top_k=10, min_relevance=-1.0)
        eng = Engine(home, settings=settings, embedder=embedder, chat=small, passphrase=typed_passphrase)
        doc = docmaker.make_text(tmp_path / "wounds.txt", "\n\n".join(LONG_FACTS))
        eng.ingest_service().ingest([doc])
        events = list(eng.ask_service().ask("How often is the dressing for wound type 7 changed?"))
        sources = next(e for e in events if isinstance(e, Sources))
        done = events[-1]
        assert isinstance(done, Done)
        assert 1 <= len(sources.passages) < 10, "some passages had to be left out to fit"
        assert done.timings["prompt_tokens"] + 200 <= 1024
        assert done.answer
    finally:
        small.close()


def test_generation_stops_when_cancelled(chat: ChatModel) -> None:
    stop = threading.Event()
    stats = GenerationStats()
    pieces = []
    messages = [Message("user", "Write a very long story about a hospital, at least 400 words.")]
    for piece in chat.stream(messages, max_tokens=400, temperature=0.7, cancelled=stop.is_set, stats=stats):
        pieces.append(piece)
        if len(pieces) == 5:
            stop.set()
    assert stats.cancelled
    assert stats.completion_tokens == 5 and len(pieces) == 5


def test_cancel_through_the_ask_service(engine: Engine, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "h.txt", "The hospital history: founded in 1872 by the Sisters of Mercy. " * 20)
    engine.ingest_service().ingest([doc])
    count = 0

    def cancelled() -> bool:
        return count >= 3

    done = None
    for event in engine.ask_service().ask("Tell me the hospital history in detail.", cancelled=cancelled):
        if isinstance(event, Token):
            count += 1
        if isinstance(event, Done):
            done = event
    assert done is not None and done.cancelled and count == 3


def test_one_model_serves_one_caller_at_a_time(chat: ChatModel, monkeypatch) -> None:
    spans: list[tuple[float, float]] = []
    active, most = [0], [0]
    real = chat._llm.create_completion

    def watched(*args, **kwargs):  # counts generations running inside llama.cpp at once
        active[0] += 1
        most[0] = max(most[0], active[0])
        try:
            yield from real(*args, **kwargs)
        finally:
            active[0] -= 1

    monkeypatch.setattr(chat._llm, "create_completion", watched)

    def ask(q: str) -> None:
        start = time.perf_counter()
        text = "".join(chat.stream([Message("user", q)], max_tokens=24, temperature=0.0))
        spans.append((start, time.perf_counter()))
        assert text

    first = threading.Thread(target=ask, args=("Name three colours.",))
    second = threading.Thread(target=ask, args=("Name three animals.",))
    first.start()
    second.start()
    first.join(120)
    second.join(120)
    assert len(spans) == 2, "both callers must get an answer"
    assert most[0] == 1, "two generations ran in the model at once"


def test_citations_from_markers_and_from_quoted_text() -> None:
    p1 = Passage(1, "a:0", "a", "/d/a.pdf", 3, "Page 3", "The boiler pressure limit is 2.5 bar.", 0.6)
    p2 = Passage(2, "b:0", "b", "/d/b.txt", None, None, "Visitors may come between 10:00 and 20:00.", 0.5)
    assert cited_passages("Limit is 2.5 bar [1].", [p1, p2]) == ([p1], False)
    assert cited_passages("See [2] and [1, 2].", [p1, p2]) == ([p2, p1], False)
    assert cited_passages("Visitors may come between 10:00 and 20:00.", [p1, p2]) == ([p2], True)
    assert cited_passages("I do not know.", [p1, p2]) == ([], True)
    assert cited_passages("Out of range [7].", [p1, p2])[0] == []
