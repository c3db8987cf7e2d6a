"""Turns what happens in the chat and conversation panels into calls on the engine's services."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication

from app.core.answer.conversations import ConversationService
from app.core.engine import Engine
from app.core.values import USER, Conversation, StoredMessage
from app.gui.chat.chat_panel import ChatPanel
from app.gui.chat.conversation_list_panel import ConversationListPanel
from app.gui.chat.message_widget import MessageWidget
from app.gui.chat.workers import AskWorker
from app.gui.tasks import Lanes, user_message


class ChatController(QObject):
    """Owns which conversation is open and the answer being written."""

    sig_citation_clicked = Signal(object)
    """Emitted with a Citation the user wants to read in its document."""

    sig_evidence_clicked = Signal(object, str)
    """Emitted with a Citation and the quote in it the user wants to see in its document."""

    sig_message = Signal(str)
    """Emitted with a short note for the status bar."""

    sig_answer_finished = Signal()
    """Emitted when an answer is complete (or stopped, or failed)."""

    def __init__(self, engine: Engine, lanes: Lanes, chat: ChatPanel, conversations: ConversationListPanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.lanes, self.chat, self.list = engine, lanes, chat, conversations
        self.current: Conversation | None = None
        self.worker: AskWorker | None = None
        self._answer: MessageWidget | None = None
        self._question: MessageWidget | None = None
        self.documents: dict[str, str] = {}  # doc_id -> file name, for the scope button
        chat.sig_send.connect(self._on_chat_send)
        chat.sig_stop.connect(self.stop)
        chat.sig_regenerate.connect(self._on_chat_regenerate)
        chat.sig_citation_clicked.connect(self.sig_citation_clicked)
        chat.sig_evidence_clicked.connect(self.sig_evidence_clicked)
        chat.sig_copy.connect(self._on_chat_copy)
        chat.sig_draft_changed.connect(self._on_chat_draft_changed)
        chat.sig_model_chosen.connect(self._on_chat_model_chosen)
        self._pending_model: str | None = None  # chosen before the new conversation's first question
        conversations.sig_new.connect(self.new_conversation)
        conversations.sig_selected.connect(self.open_conversation)
        conversations.sig_renamed.connect(self._on_list_renamed)
        conversations.sig_deleted.connect(self._on_list_deleted)

    def store(self) -> ConversationService:
        return self.engine.conversation_service()

    # -- conversations ----------------------------------------------------------------------

    def load(self) -> None:
        """Fill the side list (on start); the most recent conversation is opened."""
        self.lanes.run(self.lanes.io, lambda: self.store().list(), self._on_store_listed, self._on_store_failed)

    def _on_store_listed(self, items: list[Conversation]) -> None:
        current = self.current.conv_id if self.current else None
        self.list.set_conversations(items, current)
        if self.current is None and items and not self.chat.messages:
            self.open_conversation(items[0].conv_id)

    def _on_store_failed(self, error: BaseException) -> None:
        self.sig_message.emit(f"Saved conversations could not be opened: {user_message(error)}")

    def refresh_list(self) -> None:
        self.load()

    def new_conversation(self) -> None:
        """An empty conversation; it is saved when the first question is sent."""
        self.current = None
        self.chat.clear()
        self.chat.set_title("New conversation")
        self.chat.set_draft("")
        self._update_scope()
        self._pending_model = None
        self.chat.show_model(None)
        self.list.view.clearSelection()
        self.list.view.setCurrentIndex(self.list.model.index(-1))
        self.chat.input.setFocus()

    def open_conversation(self, conv_id: str) -> None:
        if self.current and self.current.conv_id == conv_id and self.chat.messages:
            return

        def read() -> tuple[Conversation, list[StoredMessage], str]:
            store = self.store()
            return store.get(conv_id), store.messages(conv_id), store.draft(conv_id)

        self.lanes.run(self.lanes.io, read, self._on_conversation_read,
                       lambda e: self.sig_message.emit(f"This conversation could not be opened: {user_message(e)}"))

    def _on_conversation_read(self, result: tuple[Conversation, list[StoredMessage], str]) -> None:
        conversation, messages, draft = result
        self.current = conversation
        self._answer = self._question = None
        self.chat.show_messages(messages)
        self.chat.set_title(conversation.title)
        self.chat.set_draft(draft)
        self._update_scope()
        self.chat.show_model(conversation.model_key)
        # One answer at a time (one model): while one is written, here or in another conversation,
        # the button offers to stop it; an answer of this conversation shows when it is done.
        self.chat.set_busy(self.worker is not None)

    def _on_list_renamed(self, conv_id: str, title: str) -> None:
        self.lanes.run(self.lanes.io, lambda: self.store().rename(conv_id, title), lambda _: self.refresh_list(),
                       lambda e: self.sig_message.emit(f"Could not rename: {user_message(e)}"))
        if self.current and self.current.conv_id == conv_id:
            self.chat.set_title(title)

    def _on_list_deleted(self, conv_id: str) -> None:
        if self.worker is not None and self.worker.conv_id == conv_id:
            self.worker.stop()
        if self.current and self.current.conv_id == conv_id:
            self.new_conversation()
        self.lanes.run(self.lanes.io, lambda: self.store().delete(conv_id), lambda _: self.refresh_list(),
                       lambda e: self.sig_message.emit(f"Could not delete: {user_message(e)}"))

    def set_scope(self, doc_ids: list[str] | None) -> None:
        """Restrict the open conversation to some documents (None: the whole library)."""
        if self.current is None:
            self._pending_scope = doc_ids
        else:
            conv_id = self.current.conv_id
            self.current = dataclasses.replace(self.current, doc_ids=doc_ids)
            self.lanes.run(self.lanes.io, lambda: self.store().restrict(conv_id, doc_ids),
                           on_failed=lambda e: self.sig_message.emit(f"Could not save the choice: {user_message(e)}"))
        self._update_scope()

    _pending_scope: list[str] | None = None

    def scope(self) -> list[str] | None:
        return self.current.doc_ids if self.current else self._pending_scope

    def _update_scope(self) -> None:
        ids = self.scope()
        if ids is None:
            self.chat.set_scope("Uses: all documents")
        elif len(ids) == 1:
            self.chat.set_scope(f"Uses: {self.documents.get(ids[0], '1 document')}")
        else:
            self.chat.set_scope(f"Uses: {len(ids)} chosen documents")

    # -- asking -----------------------------------------------------------------------------

    def ask(self, question: str) -> None:
        self._on_chat_send(question)

    def _on_chat_send(self, question: str) -> None:
        if self.worker is not None:
            return
        self._question = self.chat.add_question(question)
        self._start(question, save_question=True, replace=None)

    def _on_chat_regenerate(self) -> None:
        if self.worker is not None or self.current is None:
            return
        answers = [w for w in self.chat.messages if w.role != USER]
        questions = [w for w in self.chat.messages if w.role == USER]
        if not questions:
            return
        last = self.chat.messages[-1]
        replace = last.msg_id if last.role != USER else None
        if last.role != USER and last in answers:
            self.chat.messages.remove(last)
            last.deleteLater()
        self._start(questions[-1].text, save_question=False, replace=replace)

    def model_key(self) -> str | None:
        """The chat model of the open conversation (or the one chosen for a new one); a model removed
        from the library since: the default (as the chooser shows)."""
        key = self.current.model_key if self.current else self._pending_model
        return key if key is not None and self.chat.model_box.findData(key) >= 0 else None

    def _on_chat_model_chosen(self, key: str | None) -> None:
        if self.current is None:
            self._pending_model = key
            return
        conv_id = self.current.conv_id
        self.current = dataclasses.replace(self.current, model_key=key)
        self.lanes.run(self.lanes.io, lambda: self.store().set_model(conv_id, key),
                       on_failed=lambda e: self.sig_message.emit(f"Could not save the choice: {user_message(e)}"))
        self.sig_message.emit("This conversation's next answer is written by the chosen model.")

    def _start(self, question: str, *, save_question: bool, replace: str | None) -> None:
        self._answer = self.chat.begin_answer()
        key = self.model_key()
        worker = AskWorker(
            ask=lambda: self.engine.ask_service(key), store=self.store,
            conv_id=self.current.conv_id if self.current else None, question=question,
            doc_ids=self.scope(), save_question=save_question, replace=replace,
        )
        s = worker.signals
        s.sig_conversation_created.connect(self._on_worker_conversation_created)
        s.sig_question_saved.connect(self._on_worker_question_saved)
        s.sig_sources.connect(self._on_worker_sources)
        s.sig_text.connect(self._on_worker_text)
        s.sig_reasoning.connect(self._on_worker_reasoning)
        s.sig_failed.connect(self._on_worker_failed)
        s.sig_finished.connect(self._on_worker_finished)
        self.worker = worker
        self.chat.set_busy(True)
        self.lanes.start(self.lanes.inference, worker)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            if self._answer is not None:
                self._answer.set_status("Stopping…", kind="waiting")

    def _showing_worker(self) -> bool:
        return self.worker is not None and self.current is not None and self.current.conv_id == self.worker.conv_id

    @Slot(object)
    def _on_worker_conversation_created(self, conversation: Conversation) -> None:
        if self.current is None:
            self.current = conversation
            self._pending_scope = None
            self.chat.set_title(conversation.title)
            key, self._pending_model = self._pending_model, None
            if key is not None:
                conv_id = conversation.conv_id
                self.current = dataclasses.replace(conversation, model_key=key)
                self.lanes.run(self.lanes.io, lambda: self.store().set_model(conv_id, key))
        self.refresh_list()

    @Slot(object)
    def _on_worker_question_saved(self, message: StoredMessage) -> None:
        if self._question is not None and self._showing_worker():
            self._question.msg_id = message.msg_id

    @Slot(list)
    def _on_worker_sources(self, citations: list) -> None:
        if self._answer is not None and self._showing_worker():
            if citations:
                n = len(citations)
                self._answer.set_status(f"Found {n} relevant passage{'s' if n != 1 else ''} — writing the answer…",
                                        kind="waiting")
            else:
                self._answer.set_status("", kind="waiting")

    @Slot(str)
    def _on_worker_text(self, text: str) -> None:
        if self._answer is not None and self._showing_worker():
            self._answer.append_text(text)

    @Slot(str)
    def _on_worker_reasoning(self, text: str) -> None:
        if self._answer is not None and self._showing_worker():
            self._answer.set_reasoning(text)

    @Slot(object)
    def _on_worker_failed(self, error: BaseException) -> None:
        message = user_message(error)
        if self._answer is not None and self._showing_worker():
            self._answer.set_status(f"The answer could not be completed: {message}", kind="error")
        self.sig_message.emit(message)

    @Slot(object)
    def _on_worker_finished(self, saved: StoredMessage | None) -> None:
        showing = self._showing_worker()
        self.worker = None
        answer, self._answer = self._answer, None
        if showing and answer is not None:
            if saved is not None:
                answer.msg_id = saved.msg_id
                answer.set_text(saved.text)
                answer.set_evidence(saved.evidence, supported=saved.supported)
                answer.set_citations(saved.citations)
                if saved.cancelled:
                    answer.set_status("Stopped before the end.", kind="stopped")
                elif answer.status.property("phase") == "waiting":
                    answer.set_status("")
            elif answer.status.property("phase") != "error":
                answer.set_status("Stopped before the answer began.", kind="stopped")
        self.chat.set_busy(False)
        self.refresh_list()
        self.sig_answer_finished.emit()

    # -- small things -----------------------------------------------------------------------

    def _on_chat_copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.sig_message.emit("Answer copied.")

    def _on_chat_draft_changed(self, text: str) -> None:
        if self.current is None:
            return
        conv_id = self.current.conv_id
        self.lanes.run(self.lanes.io, lambda: self.store().set_draft(conv_id, text))

    def close(self, draft: str) -> None:
        """Stop an answer (what was written is saved by its worker) and keep the unsent text."""
        if self.worker is not None:
            self.worker.stop()
        if self.current is not None:
            conv_id = self.current.conv_id
            self.lanes.run(self.lanes.io, lambda: self.store().set_draft(conv_id, draft))
