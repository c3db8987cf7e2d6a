"""Value types shared across the core's rooms: plain frozen data, no behaviour, stdlib imports only.

They sit at the bottom of the layers (see docs/architecture.md) so that two rooms that may not
import each other, such as ``models`` (the chat model reads messages) and ``storage`` (saved
conversations turn into messages), can both use them. Front ends may import them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ASSISTANT", "DEFAULT_LIBRARY", "NEW_TITLE", "USER", "Citation", "Conversation", "Document",
    "EvidenceQuote", "LibraryInfo", "Message", "StoredMessage", "WatchedFolder",
]

NEW_TITLE = "New conversation"
USER, ASSISTANT = "user", "assistant"
DEFAULT_LIBRARY = "My documents"


@dataclass(frozen=True)
class Message:
    """One turn of a conversation."""

    role: str  # "system" | "user" | "assistant"
    content: str


# -- conversations (kept by app.core.storage.conversations) ------------------------------------


@dataclass(frozen=True)
class Citation:
    """A cited passage, kept as plain data with the message that cites it."""

    n: int
    path: str
    page: int | None
    label: str | None
    text: str
    doc_id: str = ""
    score: float = 0.0
    removed: bool = False  # its document was removed: no path, page or passage is kept, only this mark


@dataclass(frozen=True)
class EvidenceQuote:
    """A sentence of a cited passage that supports an answer, kept verbatim with the answer.

    Attributes:
        n: The number of the cited passage it comes from (a :class:`Citation`'s ``n``).
        path: The file.
        page: 1-based page/slide/sheet, or None.
        label: "Page 3", "Slide 2", "Sheet 'Q1'" or None.
        text: The sentence as shown to the user.
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
class StoredMessage:
    """One turn as saved.

    Attributes:
        msg_id: Its id.
        role: "user" or "assistant".
        text: What was said.
        citations: The passages an answer cites (empty for questions).
        created_at: Seconds since the epoch.
        cancelled: The answer was stopped before it was finished.
        grounded: False when the documents held nothing on the question.
        evidence: The sentences of the cited passages that hold the answer's facts, verbatim.
        supported: False when the answer's facts were not found in the passages it cites; None
            when there was nothing to check (and for messages saved before this was recorded).
        declined: The answer says the documents do not cover the question.
    """

    msg_id: str
    role: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    created_at: float = 0.0
    cancelled: bool = False
    grounded: bool = True
    evidence: list[EvidenceQuote] = field(default_factory=list)
    supported: bool | None = None
    declined: bool = False


@dataclass(frozen=True)
class Conversation:
    """A conversation's header (no messages)."""

    conv_id: str
    title: str
    doc_ids: list[str] | None
    created_at: float
    updated_at: float
    model_key: str | None = None  # the chat model it is answered with (None: the default model)


# -- the document registry (kept by app.core.storage.registry) ----------------------------------


@dataclass(frozen=True)
class Document:
    """One file known to the library."""

    doc_id: str
    path: str
    content_hash: str | None
    size: int | None
    mtime_ns: int | None
    format: str | None
    title: str | None
    page_count: int | None
    chunk_count: int
    status: str
    error: str | None
    embedder: str | None
    added_at: float
    updated_at: float
    library: str = DEFAULT_LIBRARY

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class LibraryInfo:
    """A library and what it holds."""

    name: str
    created_at: float
    documents: int
    ready: int
    chunks: int


@dataclass(frozen=True)
class WatchedFolder:
    """A folder whose files a library follows."""

    path: Path
    library: str
    added_at: float
