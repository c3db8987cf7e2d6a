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

from app.core.answer.evidence import (
    EvidenceSet,
    Unit,
    check_answer,
    is_decline,
    missing_specifics,
    render_block,
    select_evidence,
    table_header_of,
    terms,
)
from app.core.answer.narrowing import DocumentNames, names_of_documents, narrow, restrict
from app.core.config import Settings
from app.core.models.cpu import CpuGate
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel, GenerationStats, Message
from app.core.models.remote import RemoteChatModel
from app.core.retrieval.hybrid import Retriever
from app.core.storage.headers import context_header
from app.core.storage.keywords import KeywordIndex
from app.core.storage.registry import READY, Library
from app.core.storage.vectors import VectorStore
from app.core.values import EvidenceQuote

NOTHING_FOUND = (
    "I could not find anything about this in your documents, so I can't answer it from them. "
    "Try other words, or add the document that covers it."
)
NO_DOCUMENTS = "Your library is empty. Add documents first, then ask about them."

NOT_MENTIONED = "The documents do not say: nothing in them mentions {}, so I won't guess."
NOT_COVERED = "The documents do not say. Nothing in them answers this question, so I won't guess."

# Small models copy a worked example verbatim and, told to cite "[n]", answer with bare numbers:
# the prompt asks for the fact in the excerpts' own words; citations come from the answer's
# [n] markers or from the sentences it draws on (see AskService._finish). Tuned with
# ``sanctum bench answers`` on the development sets.
#: The explicit "is it answered?" step, asked right after the answer in the same conversation (so
#: llama.cpp evaluates only these few tokens): a model whose yes-probability is calibrated on the
#: development sets declines below its threshold (see ``app.core.models.shipped``, ``judge_min_yes``).
JUDGE_QUESTION = "Is the answer to my question stated in the excerpts? Reply yes or no."
SYSTEM_PROMPT = (
    "You answer questions using only the numbered excerpts from the user's documents. Reply with "
    "the answer in one short sentence, repeating the exact names, numbers and units from the "
    "excerpts. Table rows are written as Column: value. If the excerpts do not contain the answer, "
    "reply exactly: The documents do not say."
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


# A sentence that supports an answer: the same value a saved conversation keeps with it.
Evidence = EvidenceQuote


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
    thinking: str = ""  # a reasoning model's <think> text: shown apart, never part of the answer or its checks


Event = Sources | Token | Done


class SearchService:
    """Retrieval over the library: dense, keyword or hybrid (see :mod:`app.core.retrieval.hybrid`)."""

    def __init__(
        self, *, embedder: Embedder, store: VectorStore, library: Library, keywords: KeywordIndex | None = None,
        mode: str = "dense",
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.library = library
        self.mode = mode if keywords is not None else "dense"
        self.retriever = Retriever(embedder=embedder, store=store, keywords=keywords)
        self.narrow = True  # company/period words in a question narrow the search (app.core.answer.narrowing)
        self._names: tuple[frozenset[tuple[str, str]], list[DocumentNames]] | None = None
        self._names_stamp: tuple[int, int] | None = None

    def document_names(self) -> list[DocumentNames]:
        """The names every ready document is known by (kept until the library changes: reading every
        document's row for each question cost ~10 ms at 100,000 chunks)."""
        stamp = self.library.change_stamp()
        if self._names is not None and stamp == self._names_stamp:
            return self._names[1]
        docs = self.library.all(READY)
        state = frozenset((d.doc_id, d.content_hash or "") for d in docs)
        if self._names is None or self._names[0] != state:
            self._names = (state, names_of_documents(self.store, docs))
        self._names_stamp = stamp
        return self._names[1]

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
        if self.narrow:
            doc_ids = restrict(doc_ids, narrow(query, self.document_names()))
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
    """Answers questions from the library with the chat model.

    The pipeline, built for small models (see :mod:`app.core.answer.evidence`): retrieve passages; keep
    the sentences and table records that bear on the question; decline when they do not cover
    it; let the model answer from that evidence alone; check the answer's facts against the
    passages and attach the supporting sentences.
    """

    def __init__(self, *, search: SearchService, model_provider: Callable[[], ChatModel | RemoteChatModel],
                 settings: Settings,
                 on_question: Callable[[str], object] | None = None, cpu: CpuGate | None = None,
                 judge_min_yes: Callable[[ChatModel | RemoteChatModel], float | None] | None = None,
                 on_timed: Callable[[str, float, float | None], object] | None = None) -> None:
        self.search = search
        self._model_provider = model_provider
        self.settings = settings
        # The yes-probability of the "is it answered?" step below which a model's answer is declined
        # (None from it, or no callable: no step).
        self._judge_min_yes = judge_min_yes
        self._on_timed = on_timed  # (model file, seconds to the first word, tokens/s): the speed log
        self._on_question = on_question  # the audit trail
        self._cpu = cpu or CpuGate()

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
        with self._cpu.foreground():  # an ingest's encoder waits while the answer is written
            yield from self._ask(question, history=history, doc_ids=doc_ids, libraries=libraries,
                                 cancelled=cancelled)

    def _ask(self, question: str, *, history: Sequence[Message], doc_ids: Sequence[str] | None,
             libraries: Sequence[str] | None, cancelled: Callable[[], bool] | None) -> Iterator[Event]:
        t0 = time.perf_counter()
        doc_ids = restrict_to_libraries(self.search.library, doc_ids, libraries)
        if self._on_question:
            self._on_question(question)
        if self.search.store.count() == 0:
            yield Sources([])
            yield Done(NO_DOCUMENTS, [], model="", timings={"retrieval": 0.0}, grounded=False)
            return
        # A follow-up ("And in older people?") is searched and judged with the question before it.
        previous = _previous_question(history)
        query = f"{question}\n{previous}" if previous else question
        candidates = self.search.search(query, k=self.settings.top_k, doc_ids=doc_ids)
        candidates = relevant_passages(candidates, self.settings.min_relevance)
        t_retrieval = time.perf_counter() - t0
        if not candidates:
            yield Sources([])
            yield Done(NOTHING_FOUND, [], model="", timings={"retrieval": round(t_retrieval, 4)}, grounded=False,
                       declined=True)
            return
        t1 = time.perf_counter()
        headers = [self._table_header(p) for p in candidates]
        contexts = [_context(p) for p in candidates]
        evidence = select_evidence(query, [(p.text, h, c) for p, h, c in zip(candidates, headers, contexts,
                                                                                  strict=True)],
                                   max_chars=self.settings.evidence_chars)
        t_evidence = time.perf_counter() - t1
        timings: dict[str, float | int | None] = {
            "retrieval": round(t_retrieval, 4), "evidence": round(t_evidence, 4),
            "coverage": round(evidence.coverage, 4),
        }
        missing = missing_specifics(question, [p.text for p in candidates] + [c or "" for c in contexts])
        # Few of the question's words in the evidence *and* little of its meaning in the passages:
        # the library does not cover it. (Words alone miss paraphrases: "the history of the
        # hospital" for a page on when it was founded.)
        closest = max((p.similarity if p.similarity is not None else p.score for p in candidates), default=1.0)
        uncovered = evidence.coverage < self.settings.min_coverage and closest < self.settings.min_meaning
        if uncovered or not evidence.blocks or missing:
            yield Sources([])
            timings["total"] = round(time.perf_counter() - t0, 4)
            answer = NOT_MENTIONED.format(", ".join(f"“{m}”" for m in missing)) if missing else NOT_COVERED
            yield Done(answer, [], model="", timings=timings, grounded=False, declined=True)
            return
        model = self._model_provider()
        t2 = time.perf_counter()
        order = [p for p, _ in evidence.blocks]
        passages = [_renumber(candidates[p], n) for n, p in enumerate(order, start=1)]
        blocks = [render_block(units, question) for _, units in evidence.blocks]
        passages, blocks, messages = self._fit(model, question, passages, blocks, history)
        timings["prompt_build"] = round(time.perf_counter() - t2, 4)
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
        if self._on_timed and stats.first_token_s is not None and not stats.cancelled:
            rate = (stats.completion_tokens - 1) / max(1e-6, stats.total_s - stats.first_token_s) \
                if stats.completion_tokens > 1 else None
            self._on_timed(str(model.path), time.perf_counter() - t0 - (stats.total_s - stats.first_token_s), rate)
        timings.update({
            "first_token": round(stats.first_token_s, 4) if stats.first_token_s is not None else None,
            "generation": round(stats.total_s, 4),
            "prompt_tokens": stats.prompt_tokens,
            "completion_tokens": stats.completion_tokens,
        })
        threshold = self._judge_min_yes(model) if self._judge_min_yes else None
        if threshold is not None and answer and not stats.cancelled and not is_decline(answer):
            t3 = time.perf_counter()
            yes = model.yes_probability([*messages, Message("assistant", answer), Message("user", JUDGE_QUESTION)])
            timings.update({"judge": round(time.perf_counter() - t3, 4), "judge_yes": round(yes, 4)})
            if yes < threshold:
                timings["total"] = round(time.perf_counter() - t0, 4)
                yield Done(NOT_COVERED, [], model=model.name, timings=timings, grounded=False, declined=True,
                           exchange=[messages[-1], Message("assistant", NOT_COVERED)])
                return
        used = order[: len(passages)]  # candidate index of each passage the model read
        done = self._finish(question, answer, passages, [contexts[i] for i in used],
                            EvidenceSet(blocks=[], coverage=evidence.coverage, best=None,
                                        units=[evidence.units[i] for i in used]),
                            _best_in(evidence, used), stats.cancelled, timings)
        done.model = model.name
        done.thinking = stats.thinking
        done.exchange = [messages[-1], Message("assistant", done.answer)]
        timings["total"] = round(time.perf_counter() - t0, 4)
        yield done

    def _finish(self, question: str, answer: str, passages: list[Passage], contexts: list[str | None],
                evidence: EvidenceSet, best: tuple[int, Unit] | None, cancelled: bool,
                timings: dict[str, float | int | None]) -> Done:
        """Check the answer against its passages; decline, mark or replace it as the check says.

        Args:
            question: The question.
            answer: What the model wrote.
            passages: The passages it read, numbered.
            contexts: Their context words (file name, label).
            evidence: Their units (``units[i]`` belongs to ``passages[i]``).
            best: The passage index and unit that covered the question best.
            cancelled: The user stopped the answer.
            timings: Figures so far; the check adds its own.
        """
        if cancelled or not answer:
            citations, _ = cited_passages(answer, passages)
            return Done(answer, citations, model="", timings=timings, cancelled=cancelled)
        if is_decline(answer):
            return Done(answer, [], model="", timings=timings, declined=True)
        # Checked against the passages' full text: a fact may sit in a sentence the evidence step left out.
        check = check_answer(answer, question, [p.text for p in passages], evidence, context=contexts)
        timings["answer_coverage"] = round(check.answer_coverage, 4)
        if check.support and check.answer_coverage < self.settings.min_answer_coverage:
            # The model answered from a sentence that is not about the question.
            return Done(NOT_COVERED, [], model="", timings=timings, grounded=False, declined=True)
        found, inferred = cited_passages(answer, passages)
        marked = [] if inferred else found  # the passages the answer names with [n] itself
        supported = check.supported
        support = [(p, u) for p, u, _ in check.support]
        if marked:  # the answer names its passages: its evidence comes from those first
            wanted = {passages.index(c) for c in marked}
            support = [s for s in support if s[0] in wanted] + [s for s in support if s[0] not in wanted]
        chosen = support[:2] if supported else support[:1]
        if not chosen and best is not None:
            chosen = [best]  # nothing holds the answer's facts: show what the documents do say
        if not _says_something(answer, question, passages) and best is not None:
            # A non-answer ("The source that answers the question is [1]"): show the evidence instead.
            p, unit = best
            answer = f"Your documents say: “{unit.text}” [{passages[p].n}]"
            chosen, marked, supported = [best], [passages[p]], True
        items = [Evidence(n=passages[p].n, path=passages[p].path, page=passages[p].page,
                          label=passages[p].label, text=unit.text, quote=unit.quote) for p, unit in chosen]
        citations = marked or [passages[p] for p in _unique(chosen)]
        if not marked and citations:
            answer += " " + "".join(f"[{p.n}]" for p in citations)
        return Done(answer, citations, model="", timings=timings, evidence=items, supported=supported)

    def _table_header(self, passage: Passage) -> list[str] | None:
        """Column headers for a passage that starts inside a table begun in an earlier chunk."""
        first = next((line for line in passage.text.split("\n") if line.strip()), "")
        if " | " not in first:
            return None
        doc, _, seq_text = passage.chunk_id.rpartition(":")
        if not seq_text.isdigit() or int(seq_text) == 0:
            return None
        seq = int(seq_text)
        earlier = [f"{doc}:{s}" for s in range(max(0, seq - 6), seq)]
        try:
            texts = [hit.text for hit, _ in self.search.store.fetch(earlier)]
        except Exception:  # noqa: BLE001 - the header is a help, not a need
            return None
        return table_header_of("\n".join(texts))

    def _fit(
        self, model: ChatModel | RemoteChatModel, question: str, passages: list[Passage], blocks: list[str],
        history: Sequence[Message],
    ) -> tuple[list[Passage], list[str], list[Message]]:
        """Keep the best evidence blocks (and recent turns) that fit the window with room to answer."""
        budget = model.context_size - self.settings.max_answer_tokens
        history = list(history)
        while True:
            for keep in range(len(passages), 0, -1):
                messages = build_messages(question, passages[:keep], history, blocks[:keep])
                if model.count_tokens(model.render(messages)[0]) <= budget:
                    return passages[:keep], blocks[:keep], messages
            if history:
                history = history[2:]  # drop the oldest question/answer pair and try again
                continue
            # Not even one block fits: cut the best one down until it does.
            text = blocks[0]
            while len(text) > 200:
                text = text[: int(len(text) * 0.8)]
                messages = build_messages(question, passages[:1], [], [text])
                if model.count_tokens(model.render(messages)[0]) <= budget:
                    return passages[:1], [text], messages
            return passages[:1], [text], build_messages(question, passages[:1], [], [text])


def _context(p: Passage) -> str:
    """Words a passage's place gives it: the file's name and the page/sheet label."""
    return f"{context_header(None, Path(p.path)) or ''} {p.label or ''}"


def _previous_question(history: Sequence[Message]) -> str | None:
    """The question of the last earlier turn (its user message ends with "Question: …")."""
    for message in reversed(history):
        if message.role == "user":
            return message.content.rpartition("Question:")[2].strip() or None
    return None


def _best_in(evidence: EvidenceSet, used: Sequence[int]) -> tuple[int, Unit] | None:
    """The best unit of the evidence as (index among the passages read, unit), if it was read."""
    best = evidence.best
    if best is None or best.passage not in used:
        return None
    return list(used).index(best.passage), best.unit


def _unique(pairs: Sequence[tuple[int, Unit]]) -> list[int]:
    seen: list[int] = []
    for p, _ in pairs:
        if p not in seen:
            seen.append(p)
    return seen


def _says_something(answer: str, question: str, passages: Sequence[Passage]) -> bool:
    """Whether the answer states anything beyond the question's words and the passages' names."""
    clean = re.sub(r"\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\]", " ", answer)
    named = set(terms(question + " source sources answer question document documents page passage excerpt"))
    for p in passages:
        named |= set(terms(p.where()))
    return bool(set(terms(clean)) - named)


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


def build_messages(question: str, passages: Sequence[Passage], history: Sequence[Message],
                   blocks: Sequence[str] | None = None) -> list[Message]:
    """The conversation the model sees: rules, earlier turns, then the evidence and the question.

    Args:
        question: The question.
        passages: The passages, numbered as they will be cited.
        history: Earlier turns (their exchanges), oldest first.
        blocks: What to show of each passage (its evidence); by default its whole text.
    """
    texts = blocks if blocks is not None else [p.text for p in passages]
    sources = "\n\n".join(f"[{p.n}] ({p.where()})\n{text}" for p, text in zip(passages, texts, strict=True))
    user = f"Excerpts:\n\n{sources}\n\nQuestion: {question}"
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
