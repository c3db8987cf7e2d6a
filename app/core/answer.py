"""Search and answer: retrieve passages, build a prompt that fits, stream a cited answer.

``AskService.ask`` yields events in a fixed order, for the CLI and the GUI alike:
:class:`Sources` (the numbered passages the model will see), then :class:`Token` pieces as they
are generated, then one :class:`Done` with the whole answer, its citations and timings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core.config import Settings
from app.core.embedder import Embedder
from app.core.keywords import KeywordIndex
from app.core.library import READY, Library
from app.core.llm import ChatModel, GenerationStats, Message
from app.core.retrieval import Retriever
from app.core.store import VectorStore

NOTHING_FOUND = (
    "I could not find anything about this in your documents, so I can't answer it from them. "
    "Try other words, or add the document that covers it."
)
NO_DOCUMENTS = "Your library is empty. Add documents first, then ask about them."

# Tuned on the bundled 0.5B model: a worked example in the prompt gets copied verbatim, and an
# instruction to cite "[n]" makes it answer with bare numbers. So the prompt asks for the facts,
# and citations come from the answer's own [n] markers or, when it has none, from which passage
# it quotes (see cited_passages).
SYSTEM_PROMPT = (
    "You are Sanctum, an assistant that answers questions from the user's own documents. The user "
    "gives you numbered sources and a question. Find the source that answers the question and "
    "reply in one or two sentences, repeating the exact names, dates and figures from it. Use only "
    "the sources. If no source answers the question, say that the documents do not say."
)
_CITE = re.compile(r"\[(\d{1,2})(?:\s*[,;]\s*(\d{1,2}))*\]")
_CITE_NUMS = re.compile(r"\d{1,2}")


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, with where it came from.

    Attributes:
        n: Its number in the prompt (1-based); citations refer to it.
        chunk_id: The store's id.
        doc_id: The document's id.
        path: The file.
        page: 1-based page/slide/sheet, or None.
        label: "Page 3", "Slide 2", "Sheet 'Q1'" or None.
        text: The chunk's text, as stored (an exact slice of the document's text).
        score: How well it matches (the ranking score: cosine similarity in dense mode).
        similarity: Cosine similarity to the question (decides "nothing found").
    """

    n: int
    chunk_id: str
    doc_id: str
    path: str
    page: int | None
    label: str | None
    text: str
    score: float
    similarity: float | None = None

    def where(self) -> str:
        name = Path(self.path).name
        return f"{name}, {self.label}" if self.label else name


@dataclass(frozen=True)
class Evidence:
    """A sentence (or table record) from a cited passage that supports the answer, verbatim.

    Attributes:
        n: The number of the passage it comes from (as in the answer's [n]).
        path: The file.
        page: 1-based page/slide/sheet, or None.
        label: "Page 3", "Slide 2", "Sheet 'Q1'" or None.
        text: The supporting text, exactly as it stands in the passage (a table row is shown
            with its column headers: "Ward: Larkspur · Falls: 1").
        quote: The exact slice of the passage's text to highlight in the source viewer.
    """

    n: int
    path: str
    page: int | None
    label: str | None
    text: str
    quote: str

    def where(self) -> str:
        name = Path(self.path).name
        return f"{name}, {self.label}" if self.label else name


@dataclass(frozen=True)
class Sources:
    passages: list[Passage]


@dataclass(frozen=True)
class Token:
    text: str


@dataclass
class Done:
    """The end of an answer.

    Attributes:
        answer: The full text.
        citations: The passages the answer cites, in order of first citation.
        model: The chat model's name.
        timings: Seconds per stage (retrieval, prompt_build, first_token, total) and token counts.
        cancelled: The user stopped generation; ``answer`` holds what came so far.
        grounded: False when nothing relevant was found and the model was not asked.
        evidence: The sentences of the cited passages that hold the answer's facts, verbatim.
        supported: True when the answer's facts (numbers, dates, names, quoted phrases) were
            found in the passages it cites; False when they were not (the answer is shown marked
            as not supported by the documents); None when there was nothing to check (a decline,
            a cancelled answer, nothing found).
        declined: The answer says the documents do not cover the question.
        exchange: This turn exactly as the model saw it (the user message with its sources, then
            the answer). Pass the exchanges of earlier turns as ``history`` to a follow-up
            question: the prompt then starts with the same tokens as the one before, and
            llama.cpp reuses their cached state instead of evaluating them again.
    """

    answer: str
    citations: list[Passage]
    model: str
    timings: dict[str, float | int | None] = field(default_factory=dict)
    cancelled: bool = False
    grounded: bool = True
    exchange: list[Message] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    supported: bool | None = None
    declined: bool = False


Event = Sources | Token | Done


class SearchService:
    """Retrieval over the library: dense, keyword or hybrid (see :mod:`app.core.retrieval`)."""

    def __init__(
        self, *, embedder: Embedder, store: VectorStore, library: Library, keywords: KeywordIndex | None = None,
        mode: str = "dense",
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.library = library
        self.mode = mode if keywords is not None else "dense"
        self.retriever = Retriever(embedder=embedder, store=store, keywords=keywords)

    def search(
        self, query: str, *, k: int, doc_ids: Sequence[str] | None = None, libraries: Sequence[str] | None = None
    ) -> list[Passage]:
        """The ``k`` passages that best match ``query``, best first.

        Args:
            query: What to look for.
            k: How many passages.
            doc_ids: Only these documents.
            libraries: Only documents of these libraries (None: every library).
        """
        doc_ids = restrict_to_libraries(self.library, doc_ids, libraries)
        found = self.retriever.search(query, k=k, mode=self.mode, doc_ids=doc_ids)
        paths: dict[str, str] = {}
        passages = []
        for i, (hit, similarity) in enumerate(((r.hit, r.similarity) for r in found), start=1):
            if hit.doc_id not in paths:
                doc = self.library.by_id(hit.doc_id)
                paths[hit.doc_id] = doc.path if doc else "(removed document)"
            passages.append(
                Passage(
                    n=i, chunk_id=hit.chunk_id, doc_id=hit.doc_id, path=paths[hit.doc_id], page=hit.page,
                    label=hit.label, text=hit.text, score=hit.score, similarity=similarity,
                )
            )
        return passages


class AskService:
    """Answers questions from the library with the chat model."""

    def __init__(self, *, search: SearchService, model_provider: Callable[[], ChatModel], settings: Settings,
                 on_question: Callable[[str], object] | None = None) -> None:
        self.search = search
        self._model_provider = model_provider
        self.settings = settings
        self._on_question = on_question  # the audit trail

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Message] = (),
        doc_ids: Sequence[str] | None = None,
        libraries: Sequence[str] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Answer ``question`` from the chosen documents/libraries; see the module docstring for the events."""
        t0 = time.perf_counter()
        doc_ids = restrict_to_libraries(self.search.library, doc_ids, libraries)
        if self._on_question:
            self._on_question(question)
        if self.search.store.count() == 0:
            yield Sources([])
            yield Done(NO_DOCUMENTS, [], model="", timings={"retrieval": 0.0}, grounded=False)
            return
        candidates = self.search.search(question, k=self.settings.top_k, doc_ids=doc_ids)
        relevant = relevant_passages(candidates, self.settings.min_relevance)
        t_retrieval = time.perf_counter() - t0
        if not relevant:
            yield Sources([])
            yield Done(NOTHING_FOUND, [], model="", timings={"retrieval": round(t_retrieval, 4)}, grounded=False)
            return
        model = self._model_provider()
        t1 = time.perf_counter()
        passages, messages = self._fit(model, question, relevant, history)
        t_build = time.perf_counter() - t1
        yield Sources(passages)
        stats = GenerationStats()
        parts: list[str] = []
        for piece in model.stream(
            messages,
            max_tokens=self.settings.max_answer_tokens,
            temperature=self.settings.temperature,
            cancelled=cancelled,
            stats=stats,
        ):
            parts.append(piece)
            yield Token(piece)
        answer = "".join(parts).strip()
        citations, inferred = cited_passages(answer, passages)
        if inferred and citations and not stats.cancelled:
            answer += " " + "".join(f"[{p.n}]" for p in citations)
        timings: dict[str, float | int | None] = {
            "retrieval": round(t_retrieval, 4),
            "prompt_build": round(t_build, 4),
            "first_token": round(stats.first_token_s, 4) if stats.first_token_s is not None else None,
            "generation": round(stats.total_s, 4),
            "total": round(time.perf_counter() - t0, 4),
            "prompt_tokens": stats.prompt_tokens,
            "completion_tokens": stats.completion_tokens,
        }
        exchange = [messages[-1], Message("assistant", answer)]
        yield Done(answer, citations, model=model.name, timings=timings, cancelled=stats.cancelled,
                   exchange=exchange)

    def _fit(
        self, model: ChatModel, question: str, passages: list[Passage], history: Sequence[Message]
    ) -> tuple[list[Passage], list[Message]]:
        """Keep the best passages (and recent turns) that fit the window with room to answer."""
        budget = model.context_size - self.settings.max_answer_tokens
        history = list(history)
        while True:
            for keep in range(len(passages), 0, -1):
                chosen = [_renumber(p, i) for i, p in enumerate(passages[:keep], start=1)]
                messages = build_messages(question, chosen, history)
                if model.count_tokens(model.render(messages)[0]) <= budget:
                    return chosen, messages
            if history:
                history = history[2:]  # drop the oldest question/answer pair and try again
                continue
            # Not even one passage fits: cut the best one down until it does.
            best = passages[0]
            text = best.text
            while len(text) > 200:
                text = text[: int(len(text) * 0.8)]
                chosen = [_renumber(best, 1, text)]
                messages = build_messages(question, chosen, [])
                if model.count_tokens(model.render(messages)[0]) <= budget:
                    return chosen, messages
            chosen = [_renumber(best, 1, text)]
            return chosen, build_messages(question, chosen, [])


def relevant_passages(passages: Sequence[Passage], min_relevance: float) -> list[Passage]:
    """The passages to answer from: all of them, or none when even the closest is below the threshold.

    The threshold is a cosine similarity (``Settings.min_relevance``); it decides whether the
    library covers the question at all. Which passages come, and in what order, is the
    retriever's business (in hybrid mode a passage can rank high on its exact words alone).
    """
    best = max((p.similarity if p.similarity is not None else p.score for p in passages), default=None)
    return list(passages) if best is not None and best >= min_relevance else []


def restrict_to_libraries(
    library: Library, doc_ids: Sequence[str] | None, libraries: Sequence[str] | None
) -> list[str] | None:
    """The documents a search may return: ``doc_ids`` narrowed to ready documents of ``libraries``."""
    if libraries is None:
        return list(doc_ids) if doc_ids is not None else None
    allowed = [d.doc_id for d in library.in_libraries(list(libraries)) if d.status == READY]
    if doc_ids is None:
        return allowed
    wanted = set(doc_ids)
    return [d for d in allowed if d in wanted]


def _renumber(p: Passage, n: int, text: str | None = None) -> Passage:
    return Passage(n=n, chunk_id=p.chunk_id, doc_id=p.doc_id, path=p.path, page=p.page, label=p.label,
                   text=p.text if text is None else text, score=p.score, similarity=p.similarity)


def build_messages(question: str, passages: Sequence[Passage], history: Sequence[Message]) -> list[Message]:
    """The conversation the model sees: rules, earlier turns, then sources and the question."""
    sources = "\n\n".join(f"[{p.n}] ({p.where()})\n{p.text}" for p in passages)
    user = f"Sources:\n{sources}\n\nQuestion: {question}"
    return [Message("system", SYSTEM_PROMPT), *history, Message("user", user)]


def cited_passages(answer: str, passages: Sequence[Passage]) -> tuple[list[Passage], bool]:
    """The passages an answer cites, in order of first citation, and whether they were inferred.

    An answer's own [n] markers come first. Small models often cite nothing even when they quote a
    passage word for word; then the passages it plainly draws on (shared runs of words, shared
    numbers) are returned, best first, and the second value is True.
    """
    by_n = {p.n: p for p in passages}
    cited: list[Passage] = []
    for match in _CITE.finditer(answer):
        for num in _CITE_NUMS.findall(match.group(0)):
            p = by_n.get(int(num))
            if p and p not in cited:
                cited.append(p)
    if cited or not answer:
        return cited, False
    scored = [(_overlap(answer, p.text), p) for p in passages]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        return [], True
    chosen = [p for score, p in sorted(scored, key=lambda sp: -sp[0]) if score >= max(1, best / 2)]
    return chosen[:3], True


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _overlap(answer: str, source: str, n: int = 3) -> int:
    """How much of ``answer`` comes from ``source``: shared word 3-grams plus shared numbers."""
    a, s = _words(answer), _words(source)
    grams = {tuple(s[i : i + n]) for i in range(len(s) - n + 1)}
    shared = sum(1 for i in range(len(a) - n + 1) if tuple(a[i : i + n]) in grams)
    numbers = {w for w in a if any(c.isdigit() for c in w)}
    return shared + 2 * len(numbers & set(s))
