"""The answer lane's worker: asks the engine, streams text back in batches, saves the turn.

The question and the answer are written to the conversation store from this worker thread, as
soon as each is known, so closing the window mid-answer loses nothing: the window stops the
answer, waits for this worker, and what was generated so far is already saved (marked stopped).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QRunnable, Signal, Slot

from app.core.answer.conversations import ConversationService, history, title_from
from app.core.answer.service import AskService, Done, Evidence, Passage, Sources, Token
from app.core.values import ASSISTANT, USER, Citation, EvidenceQuote, StoredMessage

BATCH_S = 0.04  # tokens are sent to the UI at most every 40 ms


def to_citation(p: Passage) -> Citation:
    return Citation(n=p.n, path=p.path, page=p.page, label=p.label, text=p.text, doc_id=p.doc_id, score=p.score)


def to_evidence_quote(e: Evidence) -> EvidenceQuote:
    return EvidenceQuote(n=e.n, path=e.path, page=e.page, label=e.label, text=e.text, quote=e.quote)


class AskSignals(QObject):
    sig_conversation_created = Signal(object)
    """Emitted with the new Conversation when the question starts one."""

    sig_question_saved = Signal(object)
    """Emitted with the saved question (StoredMessage)."""

    sig_sources = Signal(list)
    """Emitted with the passages (list of Citation) the model is given."""

    sig_text = Signal(str)
    """Emitted with a batch of new answer text."""

    sig_finished = Signal(object)
    """Emitted once with the saved answer (StoredMessage); always, also when stopped or failed."""

    sig_reasoning = Signal(str)
    """Emitted with a reasoning model's <think> text (kept apart from the answer), before sig_finished."""

    sig_failed = Signal(object)
    """Emitted with a user-facing message when answering failed (sig_finished follows)."""


class AskWorker(QRunnable):
    """Answers one question in a conversation.

    Args:
        ask: Returns the engine's ask service (called on the worker thread: it may load models).
        store: Returns the conversation store (may ask for the passphrase on first use).
        conv_id: The conversation; None starts a new one titled after the question.
        question: The question.
        doc_ids: Restrict answers to these documents (None: the whole library).
        save_question: False when regenerating (the question is already saved).
        replace: The id of an answer to delete first (regenerate).
    """

    def __init__(
        self,
        *,
        ask: Callable[[], AskService],
        store: Callable[[], ConversationService],
        conv_id: str | None,
        question: str,
        doc_ids: Sequence[str] | None = None,
        save_question: bool = True,
        replace: str | None = None,
    ) -> None:
        super().__init__()
        self.signals = AskSignals()
        self._ask, self._store = ask, store
        self.conv_id, self.question, self.doc_ids = conv_id, question, doc_ids
        self.save_question, self.replace = save_question, replace
        self._stop = threading.Event()

    def stop(self) -> None:
        """Stop generating at the next token (thread-safe)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        parts: list[str] = []
        done: Done | None = None
        store: ConversationService | None = None
        try:
            store = self._store()
            if self.conv_id is None:
                conversation = store.create(title_from(self.question), doc_ids=self.doc_ids)
                self.conv_id = conversation.conv_id
                self.signals.sig_conversation_created.emit(conversation)
            if self.replace:
                store.delete_message(self.replace)
            earlier = store.messages(self.conv_id)
            if not self.save_question and earlier and earlier[-1].role == USER:
                earlier = earlier[:-1]
            if self.save_question:
                self.signals.sig_question_saved.emit(store.append(self.conv_id, USER, self.question))
            turns = history(earlier)
            pending, last = "", time.monotonic()
            for event in self._ask().ask(self.question, history=turns, doc_ids=self.doc_ids,
                                         cancelled=self._stop.is_set):
                if isinstance(event, Sources):
                    self.signals.sig_sources.emit([to_citation(p) for p in event.passages])
                elif isinstance(event, Token):
                    parts.append(event.text)
                    pending += event.text
                    if time.monotonic() - last >= BATCH_S:
                        self.signals.sig_text.emit(pending)
                        pending, last = "", time.monotonic()
                elif isinstance(event, Done):
                    done = event
                    if done.thinking:
                        self.signals.sig_reasoning.emit(done.thinking)
            if pending:
                self.signals.sig_text.emit(pending)
        except BaseException as exc:  # noqa: BLE001 - handed to the UI thread, which reports it
            self.signals.sig_failed.emit(exc)
        finally:
            self.signals.sig_finished.emit(self._save(store, parts, done))

    def _save(self, store: ConversationService | None, parts: list[str], done: Done | None) -> StoredMessage | None:
        evidence: list[EvidenceQuote] = []
        supported: bool | None = None
        declined = False
        if done is not None:
            text, cites = done.answer, [to_citation(p) for p in done.citations]
            cancelled, grounded = done.cancelled, done.grounded
            evidence = [to_evidence_quote(e) for e in done.evidence]
            supported, declined = done.supported, done.declined
        else:  # failed mid-way: keep what came (nothing was checked, so no verdict)
            text, cites, cancelled, grounded = "".join(parts).strip(), [], True, True
        if store is None or self.conv_id is None or (not text and (done is None or cancelled)):
            return None  # nothing was said: a stopped-before-it-began answer is not kept
        try:
            return store.append(self.conv_id, ASSISTANT, text, citations=cites, cancelled=cancelled,
                                grounded=grounded, evidence=evidence, supported=supported, declined=declined)
        except Exception as exc:  # noqa: BLE001 - handed to the UI thread, which reports it
            self.signals.sig_failed.emit(exc)
            return None
