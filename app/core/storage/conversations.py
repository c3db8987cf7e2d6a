"""Saved conversations: titles, messages, their citations and evidence, encrypted at rest.

A small SQLite database (``conversations.sqlite3`` under the data directory). Everything a person
typed or was told — titles, message texts, quoted passages and evidence, file names in citations,
unsent drafts — is encrypted with the data key (:class:`app.core.crypto.Cipher`), each value bound to
its own record id and field (the AAD), so a value moved to another row or column fails to open.
Only ids, roles, order, timestamps and the chosen document ids (hashes of paths) are in the clear.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.core.crypto import Cipher
from app.core.errors import SanctumError
from app.core.storage.sqlite_tx import transaction
from app.core.values import (  # value types, re-exported for the store's callers
    ASSISTANT,
    NEW_TITLE,
    USER,
    Citation,
    Conversation,
    EvidenceQuote,
    Message,
    StoredMessage,
)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    conv_id     TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    doc_ids     TEXT,
    draft       TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    msg_id      TEXT PRIMARY KEY,
    conv_id     TEXT NOT NULL REFERENCES conversations(conv_id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    role        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conv ON messages(conv_id, seq);
"""
REMOVED_ANSWER = "(This answer was deleted with the document it came from.)"


class ConversationNotFound(SanctumError):
    """The conversation was deleted (perhaps in another window)."""


class ConversationStore:
    """Lists, creates, renames and deletes conversations; appends and reads their messages.

    Thread rule: any thread; one lock serialises the SQLite connection, statements and
    transactions alike.

    Args:
        db_path: The SQLite file.
        cipher: Encrypts every text field.
    """

    def __init__(self, db_path: Path, cipher: Cipher) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._cipher = cipher
        self._lock = threading.Lock()  # one connection, used from the GUI's worker threads
        self._db = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA secure_delete=ON")  # a forgotten passage is overwritten, not left in a free page
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(conversations)")}
        if "model_key" not in columns:  # added with the model library; older files get it empty
            self._db.execute("ALTER TABLE conversations ADD COLUMN model_key TEXT")
        if self._db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, transaction(self._db) as db:
            yield db

    # -- encryption -------------------------------------------------------------------------

    def _seal(self, text: str, record: str, column: str) -> str:
        return self._cipher.encrypt_text(text, aad=f"{record}/{column}".encode())

    def _open(self, token: str, record: str, column: str) -> str:
        return self._cipher.decrypt_text(token, aad=f"{record}/{column}".encode())

    # -- conversations ----------------------------------------------------------------------

    def create(self, title: str = NEW_TITLE, *, doc_ids: Sequence[str] | None = None) -> Conversation:
        """Start a conversation; ``doc_ids`` restricts its answers to those documents."""
        conv_id = uuid.uuid4().hex
        now = time.time()
        ids = list(doc_ids) if doc_ids is not None else None
        with self._tx() as db:
            db.execute(
                "INSERT INTO conversations (conv_id, title, doc_ids, draft, created_at, updated_at) "
                "VALUES (?, ?, ?, NULL, ?, ?)",
                (conv_id, self._seal(title, conv_id, "title"), _ids_json(ids), now, now),
            )
        return Conversation(conv_id, title, ids, now, now)

    def list(self) -> list[Conversation]:
        """Every conversation, the most recently used first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM conversations ORDER BY updated_at DESC").fetchall()
        return [self._conversation(r) for r in rows]

    def get(self, conv_id: str) -> Conversation:
        with self._lock:
            row = self._db.execute("SELECT * FROM conversations WHERE conv_id = ?", (conv_id,)).fetchone()
        if row is None:
            raise ConversationNotFound("this conversation no longer exists")
        return self._conversation(row)

    def _conversation(self, row: sqlite3.Row) -> Conversation:
        conv_id = row["conv_id"]
        ids = json.loads(row["doc_ids"]) if row["doc_ids"] else None
        return Conversation(conv_id, self._open(row["title"], conv_id, "title"), ids, row["created_at"],
                            row["updated_at"], row["model_key"])

    def rename(self, conv_id: str, title: str) -> None:
        title = " ".join(title.split()) or NEW_TITLE
        self._update(conv_id, "title = ?", self._seal(title, conv_id, "title"))

    def restrict(self, conv_id: str, doc_ids: Sequence[str] | None) -> None:
        """Answer only from these documents (None: from the whole library)."""
        self._update(conv_id, "doc_ids = ?", _ids_json(list(doc_ids) if doc_ids is not None else None))

    def set_model(self, conv_id: str, model_key: str | None) -> None:
        """Answer this conversation with the chat model ``model_key`` (None: the default model)."""
        self._update(conv_id, "model_key = ?", model_key, touch=False)

    def set_draft(self, conv_id: str, text: str) -> None:
        """Keep an unsent question, so closing the window never loses it."""
        self._update(conv_id, "draft = ?", self._seal(text, conv_id, "draft") if text else None, touch=False)

    def draft(self, conv_id: str) -> str:
        with self._lock:
            row = self._db.execute("SELECT draft FROM conversations WHERE conv_id = ?", (conv_id,)).fetchone()
        return self._open(row["draft"], conv_id, "draft") if row and row["draft"] else ""

    def delete(self, conv_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM messages WHERE conv_id = ?", (conv_id,))
            db.execute("DELETE FROM conversations WHERE conv_id = ?", (conv_id,))

    def _update(self, conv_id: str, assignment: str, value: Any, *, touch: bool = True) -> None:
        with self._tx() as db:
            sets = assignment + (", updated_at = ?" if touch else "")
            params = (value, time.time(), conv_id) if touch else (value, conv_id)
            if db.execute(f"UPDATE conversations SET {sets} WHERE conv_id = ?", params).rowcount == 0:
                raise ConversationNotFound("this conversation no longer exists")

    # -- messages ---------------------------------------------------------------------------

    def append(
        self,
        conv_id: str,
        role: str,
        text: str,
        *,
        citations: Sequence[Citation] = (),
        cancelled: bool = False,
        grounded: bool = True,
        evidence: Sequence[EvidenceQuote] = (),
        supported: bool | None = None,
        declined: bool = False,
    ) -> StoredMessage:
        """Add a message at the end of a conversation."""
        if role not in (USER, ASSISTANT):
            raise ValueError(f"unknown role {role!r}")
        msg_id = uuid.uuid4().hex
        now = time.time()
        body = json.dumps({"text": text, "citations": [asdict(c) for c in citations], "cancelled": cancelled,
                           "grounded": grounded, "evidence": [asdict(e) for e in evidence],
                           "supported": supported, "declined": declined})
        with self._tx() as db:
            if db.execute("SELECT 1 FROM conversations WHERE conv_id = ?", (conv_id,)).fetchone() is None:
                raise ConversationNotFound("this conversation no longer exists")
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conv_id = ?",
                             (conv_id,)).fetchone()[0]
            db.execute(
                "INSERT INTO messages (msg_id, conv_id, seq, role, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (msg_id, conv_id, seq, role, self._seal(body, msg_id, "body"), now),
            )
            db.execute("UPDATE conversations SET updated_at = ? WHERE conv_id = ?", (now, conv_id))
        return StoredMessage(msg_id, role, text, list(citations), now, cancelled, grounded, list(evidence),
                             supported, declined)

    def delete_message(self, msg_id: str) -> None:
        """Remove one message (an answer being regenerated)."""
        with self._tx() as db:
            db.execute("DELETE FROM messages WHERE msg_id = ?", (msg_id,))

    def forget_sources(self, doc_ids: Sequence[str], *, keep_answers: bool = True) -> int:
        """Remove every passage, evidence sentence and file name that saved answers quote from the
        documents ``doc_ids`` (just removed from the library); their citations then say "source
        removed". Returns how many answers changed.

        Args:
            doc_ids: The removed documents.
            keep_answers: Keep the answers' own text (the user's choice); False replaces it with a
                note, since an answer may repeat what the document said.
        """
        gone = set(doc_ids)
        if not gone:
            return 0
        changed = 0
        with self._tx() as db:
            for row in db.execute("SELECT msg_id, body FROM messages WHERE role = ?", (ASSISTANT,)).fetchall():
                body = json.loads(self._open(row["body"], row["msg_id"], "body"))
                cites = body.get("citations", [])
                hit = {c["n"] for c in cites if c.get("doc_id") in gone}
                if not hit:
                    continue
                body["citations"] = [asdict(Citation(n=c["n"], path="", page=None, label=None, text="",
                                                     doc_id=c["doc_id"], removed=True))
                                     if c["n"] in hit else c for c in cites]
                body["evidence"] = [e for e in body.get("evidence", []) if e.get("n") not in hit]
                if not keep_answers:
                    body["text"] = REMOVED_ANSWER
                db.execute("UPDATE messages SET body = ? WHERE msg_id = ?",
                           (self._seal(json.dumps(body), row["msg_id"], "body"), row["msg_id"]))
                changed += 1
        if changed:
            with self._lock:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the old bodies leave the WAL too
        return changed

    def messages(self, conv_id: str) -> builtins.list[StoredMessage]:  # `list` is a method here
        """A conversation's messages in order."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM messages WHERE conv_id = ? ORDER BY seq", (conv_id,)).fetchall()
        out = []
        for row in rows:
            body = json.loads(self._open(row["body"], row["msg_id"], "body"))
            supported = body.get("supported")  # absent from messages saved before it was recorded
            out.append(StoredMessage(
                row["msg_id"], row["role"], body["text"], [Citation(**c) for c in body.get("citations", [])],
                row["created_at"], bool(body.get("cancelled")), bool(body.get("grounded", True)),
                [EvidenceQuote(**e) for e in body.get("evidence", [])],
                None if supported is None else bool(supported), bool(body.get("declined")),
            ))
        return out


def history(messages: Sequence[StoredMessage], *, turns: int = 3) -> list[Message]:
    """The last ``turns`` finished question/answer pairs, as the model's ``history``.

    Stopped answers and "nothing found" replies are left out: they would teach the model to
    stop short or to refuse.
    """
    pairs: list[tuple[StoredMessage, StoredMessage]] = []
    for question, answer in zip(messages, messages[1:], strict=False):
        if question.role == USER and answer.role == ASSISTANT and not answer.cancelled and answer.grounded:
            pairs.append((question, answer))
    out: list[Message] = []
    for question, answer in pairs[-turns:]:
        out += [Message("user", question.text), Message("assistant", answer.text)]
    return out


def title_from(question: str, *, limit: int = 60) -> str:
    """A short title made from a conversation's first question."""
    text = " ".join(question.split())
    if len(text) <= limit:
        return text or NEW_TITLE
    cut = text[:limit].rsplit(" ", 1)[0]
    return (cut or text[:limit]) + "…"


def _ids_json(ids: list[str] | None) -> str | None:
    return json.dumps(ids) if ids is not None else None
