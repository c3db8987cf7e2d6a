"""Answering: prompts fit the window, generation can be stopped, the model has one user at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from app.core.answer.service import NO_DOCUMENTS, Done, Passage, Sources, Token, cited_passages
from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel, GenerationStats, Message
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


def test_generation_stops_when_cancelled(small_chat: ChatModel) -> None:
    stop = threading.Event()
    stats = GenerationStats()
    pieces = []
    messages = [Message("user", "Write a very long story about a hospital, at least 400 words.")]
    for piece in small_chat.stream(messages, max_tokens=400, temperature=0.7, cancelled=stop.is_set, stats=stats):
        pieces.append(piece)
        if len(pieces) == 5:
            stop.set()
    assert stats.cancelled
    assert stats.completion_tokens == 5 and len(pieces) == 5


def test_cancel_through_the_ask_service(small_engine: Engine, tmp_path: Path) -> None:
    engine = small_engine
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


def _finish(answer: str, question: str, texts: list[str]) -> Done:
    """Run the answer check of AskService on real passages, as the pipeline does after generation."""
    from app.core.answer.evidence import EvidenceSet, select_evidence
    from app.core.answer.service import AskService, _best_in

    passages = [Passage(i, f"d{i}:0", f"d{i}", f"/docs/doc{i}.txt", None, None, t, 0.5)
                for i, t in enumerate(texts, start=1)]
    ev = select_evidence(question, [(t, None, None) for t in texts])
    used = list(range(len(texts)))
    service = AskService(search=None, model_provider=lambda: None, settings=Settings())  # type: ignore[arg-type]
    return service._finish(question, answer, passages, [None] * len(texts),
                           EvidenceSet([], ev.coverage, None, ev.units), _best_in(ev, used), False, {})


ROTA = "Name | Role | Bleep\nHana Sato | Staff nurse | 4471\nOmar Reyes | Charge nurse | 4409"
POLICY = "Visiting is allowed from 14:00. Visitors must wash their hands on entry. Flowers are not allowed."


def test_an_invented_fact_is_marked_unsupported_and_the_real_one_shown() -> None:
    done = _finish("Hana Sato's bleep is 5521.", "What is the bleep number of Hana Sato?", [ROTA, POLICY])
    assert done.supported is False
    assert done.evidence and "Hana Sato" in done.evidence[0].text and "4471" in done.evidence[0].text
    assert done.evidence[0].quote == "Hana Sato | Staff nurse | 4471"


def test_a_supported_answer_carries_its_evidence_and_citation() -> None:
    done = _finish("Hana Sato's bleep number is 4471.", "What is the bleep number of Hana Sato?", [POLICY, ROTA])
    assert done.supported is True and not done.declined
    assert [c.n for c in done.citations] == [2] and done.answer.endswith("[2]")
    assert done.evidence[0].n == 2 and done.evidence[0].text == "Name: Hana Sato · Bleep: 4471"


def test_a_non_answer_is_replaced_by_the_evidence_sentence() -> None:
    done = _finish("The source that answers the question is [1] (doc1.txt).", "From what time is visiting allowed?",
                   [POLICY])
    assert "Visiting is allowed from 14:00." in done.answer and done.supported is True
    assert done.citations and done.citations[0].n == 1


def test_a_decline_is_a_decline() -> None:
    done = _finish("The documents do not say.", "What is the parking fee?", [POLICY])
    assert done.declined and done.citations == [] and done.supported is None


def test_an_answer_during_an_ingest_pauses_the_encoder(small_engine: Engine, tmp_path: Path) -> None:
    """No embedding batch of the ingest starts while an answer is being written."""
    engine = small_engine
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(60):
        docmaker.make_text(docs / f"note{i}.txt", f"Ward note {i}: " + LONG_FACTS[i % 30])
    seed = docmaker.make_text(tmp_path / "seed.txt", "The hospital history: founded in 1872 by the Sisters of Mercy.")
    engine.ingest_service().ingest([seed])
    embedder = engine.embedder
    batches: list[tuple[float, float, int]] = []
    real_encode = embedder._model.encode

    def timed_encode(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real_encode(*args, **kwargs)
        finally:
            batches.append((start, time.perf_counter(), len(args[0])))

    embedder._model.encode = timed_encode
    embedder.batch_size = 4  # many small batches: many chances to start one during the answer
    try:
        ingest = threading.Thread(target=lambda: engine.ingest_service().ingest([docs]))
        ingest.start()
        while not batches:
            time.sleep(0.05)
        spans: list[tuple[float, float]] = []
        for _ in range(2):
            start = time.perf_counter()
            done = list(engine.ask_service().ask("When was the hospital founded?"))[-1]
            spans.append((start, time.perf_counter()))
            assert isinstance(done, Done) and done.answer
        ingest.join(300)
        assert not ingest.is_alive()
    finally:
        embedder._model.encode = real_encode
        embedder.batch_size = 32
    assert len(engine.library.all()) == 61, "the ingest finished after the answers"
    for a_start, a_end in spans:
        # The question's own query (one text) is embedded inside the answer; an ingest batch that
        # had passed its turn just before the question came may still start right after it.
        started_inside = [b for b in batches if b[2] > 1 and a_start + 0.5 < b[0] < a_end]
        assert not started_inside, f"ingest batches started while an answer was written: {started_inside}"


def test_the_system_prompt_is_evaluated_once_when_the_model_loads(chat: ChatModel) -> None:
    from app.core.answer.service import SYSTEM_PROMPT

    system = [Message("system", SYSTEM_PROMPT)]
    chat.prefill([Message("system", "Something else entirely, to start from another state.")])
    first = chat.prefill(system)
    assert first > 20, "the system prompt was evaluated"
    assert chat.prefill(system) <= 1, "a second time, its cached state is reused"
    prompt_start = chat.render([*system, Message("user", "Excerpts: … Question: ?")])[0]
    assert prompt_start.startswith(chat.render(system)[0].rsplit("<|im_start|>assistant", 1)[0])


def test_a_follow_up_is_searched_with_the_question_before_it() -> None:
    from app.core.answer.service import _previous_question

    history = [Message("user", "Excerpts:\n\n[1] (a.txt)\nVitamin D …\n\nQuestion: What does vitamin D do?"),
               Message("assistant", "It lowers the risk of fractures [1].")]
    assert _previous_question(history) == "What does vitamin D do?"
    assert _previous_question([]) is None
