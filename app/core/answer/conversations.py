"""Saved conversations, as front ends see them: the store's operations, finding one by name, and
exporting one (recorded in the audit log).

Thread rule: any thread may call it; the store it wraps serialises its own SQLite connection
(:class:`app.core.storage.conversations.ConversationStore`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import SanctumError
from app.core.storage.conversations import history as history  # re-exported: the model's history of a conversation
from app.core.storage.conversations import title_from as title_from  # re-exported: a title from a question
from app.core.values import NEW_TITLE, Citation, Conversation, EvidenceQuote, StoredMessage

if TYPE_CHECKING:
    from app.core.privacy.audit import AuditLog
    from app.core.privacy.export import ExportResult
    from app.core.storage.conversations import ConversationStore


__all__ = ["ConversationService", "history", "title_from"]


class ConversationService:
    """The conversations of this data folder.

    Args:
        store: Opens (once) the encrypted conversation store; it may ask for the passphrase.
        audit: The audit log (opened when first needed).
    """

    def __init__(self, *, store: Callable[[], ConversationStore], audit: Callable[[], AuditLog]) -> None:
        self._store = store
        self._audit = audit

    # -- the store's operations (see ConversationStore) ---------------------------------------

    def open(self) -> None:
        """Open the store now (so that a locked data folder shows at start, not at first use)."""
        self._store()

    def create(self, title: str = NEW_TITLE, *, doc_ids: Sequence[str] | None = None) -> Conversation:
        return self._store().create(title, doc_ids=doc_ids)

    def list(self) -> list[Conversation]:
        return self._store().list()

    def get(self, conv_id: str) -> Conversation:
        return self._store().get(conv_id)

    def rename(self, conv_id: str, title: str) -> None:
        self._store().rename(conv_id, title)

    def restrict(self, conv_id: str, doc_ids: Sequence[str] | None) -> None:
        self._store().restrict(conv_id, doc_ids)

    def set_model(self, conv_id: str, model_key: str | None) -> None:
        """Answer this conversation with the library model ``model_key`` (None: the default model)."""
        self._store().set_model(conv_id, model_key)

    def set_draft(self, conv_id: str, text: str) -> None:
        self._store().set_draft(conv_id, text)

    def draft(self, conv_id: str) -> str:
        return self._store().draft(conv_id)

    def delete(self, conv_id: str) -> None:
        self._store().delete(conv_id)

    def append(self, conv_id: str, role: str, text: str, *, citations: Sequence[Citation] = (),
               cancelled: bool = False, grounded: bool = True, evidence: Sequence[EvidenceQuote] = (),
               supported: bool | None = None, declined: bool = False) -> StoredMessage:
        return self._store().append(conv_id, role, text, citations=citations, cancelled=cancelled,
                                    grounded=grounded, evidence=evidence, supported=supported, declined=declined)

    def delete_message(self, msg_id: str) -> None:
        self._store().delete_message(msg_id)

    def messages(self, conv_id: str) -> builtins.list[StoredMessage]:  # `list` is a method here
        return self._store().messages(conv_id)

    # -- finding and exporting --------------------------------------------------------------------

    def find(self, wanted: str) -> Conversation:
        """The one conversation whose id or title is ``wanted`` (titles also case-insensitively).

        Raises:
            SanctumError: None, or more than one, is called that.
        """
        saved = self.list()
        exact = [c for c in saved if wanted in (c.conv_id, c.title)]
        loose = exact or [c for c in saved if c.title.casefold() == wanted.casefold()]
        if len(loose) == 1:
            return loose[0]
        if not loose:
            raise SanctumError(f"no saved conversation is called '{wanted}'; list them with `sanctum conversations`")
        raise SanctumError(
            f"{len(loose)} conversations are called '{wanted}'; give its id (see `sanctum conversations`)")

    def load_file(self, path: Path) -> Any:
        """A conversation saved as JSON by ``sanctum export`` (an export-ready conversation)."""
        from app.core.privacy.export import load_conversation

        return load_conversation(path)

    def for_export(self, conversation: Conversation) -> Any:
        """A saved conversation with its messages, ready to export (:class:`app.core.privacy.export.Conversation`)."""
        from app.core.privacy.export import from_saved

        return from_saved(conversation.title, conversation.created_at, self.messages(conversation.conv_id))

    def export(self, conversation: Conversation | Any, path: Path, *, fmt: str | None = None,
               redact: bool = False) -> ExportResult:
        """Export a saved conversation, or an export-ready one (:class:`app.core.privacy.export.Conversation`),
        to Markdown or PDF, and record it in the audit log.

        Raises:
            ExportError: Unknown format, or the file cannot be written.
        """
        from app.core.privacy.audit import CONVERSATION_EXPORTED
        from app.core.privacy.export import export_conversation

        if isinstance(conversation, Conversation):
            conversation = self.for_export(conversation)
        result = export_conversation(conversation, path, fmt=fmt, redact=redact)
        self._audit().record(CONVERSATION_EXPORTED, path=str(result.path), format=result.format, redacted=redact,
                             redactions=result.redacted, turns=len(conversation.turns))
        return result
