"""The audit trail: who did what, and when, in an append-only, tamper-evident log.

One JSON line per record in ``audit.log``::

    {"seq": 7, "prev": "<hash of record 6>", "data": "<encrypted record>", "hash": "<sha256>"}

``hash`` is SHA-256 over ``seq``, ``prev`` and ``data``, so each record is chained to the one
before: changing, removing or reordering a record breaks the chain from that record on, and anyone
can check the chain without the key. The record itself (time, OS user, event, details) is encrypted
with AES-256-GCM, its sequence number and predecessor as associated data, so it can be neither read
nor forged without the key. ``audit.head`` holds the last sequence number and hash under a keyed MAC,
which catches a log cut short at the end. A log and head both rolled back to an earlier state cannot
be told from a genuine one by this machine alone: an exported copy kept elsewhere covers that.

Questions are logged as a keyed hash (whoever holds the key can check whether a given question was
asked; nobody else learns anything) unless the user turns on full question logging in Settings.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from app.core.config import atomic_write_text
from app.core.crypto import Cipher, DataLocked
from app.core.errors import SanctumError

GENESIS = "0" * 64

# The events Sanctum records (the "what").
KEY_CREATED = "key.created"
DOCUMENT_ADDED = "document.added"
DOCUMENT_REMOVED = "document.removed"
QUESTION_ASKED = "question.asked"
CONVERSATION_EXPORTED = "conversation.exported"
SETTINGS_CHANGED = "settings.changed"
AUDIT_EXPORTED = "audit.exported"
APPLOCK_SET = "applock.set"
APPLOCK_CLEARED = "applock.cleared"
APPLOCK_UNLOCK_FAILED = "applock.unlock_failed"
CHAT_SERVER_SWITCHED = "chat_server.switched"  # between the local model and a team server
CHAT_SERVER_CONNECTED = "chat_server.connected"


class AuditError(SanctumError):
    """The audit log cannot be written or read."""


@dataclass(frozen=True)
class AuditRecord:
    """One decrypted record."""

    seq: int
    time: str
    user: str
    event: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditCheck:
    """The result of :meth:`AuditLog.verify`.

    Attributes:
        ok: The whole log is intact.
        records: How many records were read (up to the first broken one).
        first_broken: Sequence number (1-based line) of the first broken record, or None.
        problem: What is wrong with it, in words.
    """

    ok: bool
    records: int
    first_broken: int | None = None
    problem: str | None = None


def _chain_hash(seq: int, prev: str, data: str) -> str:
    return hashlib.sha256(f"{seq}\n{prev}\n{data}".encode("ascii")).hexdigest()


def _aad(seq: int, prev: str) -> bytes:
    return f"audit:{seq}:{prev}".encode("ascii")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (the GUI and a CLI command may append at once)."""
    with open(path, "a+b") as fh:
        if sys.platform == "win32":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _last_line(fh: IO[bytes]) -> bytes | None:
    """The last complete line of a file opened for binary reading, without reading all of it."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    if end == 0:
        return None
    block, data = 4096, b""
    pos = end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        data = fh.read(step) + data
        if data.rstrip(b"\n").count(b"\n") >= 1:
            break
    lines = data.rstrip(b"\n").split(b"\n")
    return lines[-1] if lines else None


class AuditLog:
    """Appends records to, verifies and exports the audit log of one data directory.

    Thread rule: any thread, and any process (the GUI and a CLI command at once): each append
    holds an exclusive lock on ``audit.lock`` from reading the last record to writing the new one.

    Args:
        path: The log file (``audit.log``); ``audit.head`` and ``audit.lock`` sit beside it.
        cipher: Encrypts records and signs the head.
        full_questions: Returns True when questions are logged in full (a setting), else hashed.
        user: Who is acting; defaults to the OS user.
    """

    def __init__(self, path: Path, cipher: Cipher, *, full_questions: Callable[[], bool] = lambda: False,
                 user: str | None = None) -> None:
        self.path = path
        self.head_path = path.with_suffix(".head")
        self._lock_path = path.with_suffix(".lock")
        self._cipher = cipher
        self._full_questions = full_questions
        self._user = user

    # -- writing ----------------------------------------------------------------------------

    def record(self, event: str, **details: Any) -> AuditRecord:
        """Append one record; returns it. Raises AuditError when the log cannot be written."""
        user = self._user or _os_user()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _file_lock(self._lock_path), open(self.path, "a+b") as fh:
                last = _last_line(fh)
                seq, prev = 1, GENESIS
                if last:
                    try:
                        tail = json.loads(last)
                        seq, prev = int(tail["seq"]) + 1, str(tail["hash"])
                    except (ValueError, KeyError, TypeError) as exc:
                        raise AuditError(
                            "the audit log's last record is damaged; run `sanctum audit verify`") from exc
                rec = AuditRecord(seq=seq, time=datetime.now(UTC).isoformat(timespec="seconds"),
                                  user=user, event=event, details=details)
                plain = json.dumps({"time": rec.time, "user": rec.user, "event": rec.event,
                                    "details": rec.details}, ensure_ascii=False, sort_keys=True)
                data = self._cipher.encrypt_text(plain, aad=_aad(seq, prev))
                digest = _chain_hash(seq, prev, data)
                line = json.dumps({"seq": seq, "prev": prev, "data": data, "hash": digest}) + "\n"
                fh.seek(0, os.SEEK_END)
                fh.write(line.encode("ascii"))
                fh.flush()
                os.fsync(fh.fileno())
                self._write_head(seq, digest)
        except OSError as exc:
            raise AuditError(f"the audit log {self.path} could not be written: {exc.strerror or exc}") from exc
        return rec

    def question(self, text: str) -> AuditRecord:
        """Record a question: its keyed hash, or the full text when the user enabled that."""
        if self._full_questions():
            return self.record(QUESTION_ASKED, question=text)
        digest = self._cipher.keyed_hash(b"question:" + text.encode("utf-8")).hex()
        return self.record(QUESTION_ASKED, question_hmac=digest, length=len(text))

    def question_hash(self, text: str) -> str:
        """The hash a question is logged under (to check whether a given question was asked)."""
        return self._cipher.keyed_hash(b"question:" + text.encode("utf-8")).hex()

    def _head_mac(self, seq: int, digest: str) -> str:
        return self._cipher.keyed_hash(f"audit-head:{seq}:{digest}".encode("ascii")).hex()

    def _write_head(self, seq: int, digest: str) -> None:
        atomic_write_text(self.head_path, json.dumps(
            {"seq": seq, "hash": digest, "mac": self._head_mac(seq, digest)}) + "\n")

    # -- reading ----------------------------------------------------------------------------

    def _lines(self) -> list[bytes]:
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines

    def verify(self) -> AuditCheck:
        """Check the chain, every record's encryption, and the signed head; report the first break."""
        prev = GENESIS
        seen: dict[int, str] = {}
        lines = self._lines()
        for index, raw in enumerate(lines, start=1):
            try:
                item = json.loads(raw)
                seq, rec_prev, data, digest = int(item["seq"]), str(item["prev"]), str(item["data"]), str(item["hash"])
            except (ValueError, KeyError, TypeError):
                return AuditCheck(False, index - 1, index,
                                  f"record {index} is not a readable record (damaged or cut short)")
            if seq != index:
                what = "missing (deleted)" if seq > index else "out of order or duplicated"
                return AuditCheck(False, index - 1, index, f"record {index} is {what}: found record {seq} in its place")
            if rec_prev != prev:
                return AuditCheck(False, index - 1, index,
                                  f"record {index} does not follow record {index - 1}: the chain is broken there")
            if _chain_hash(seq, rec_prev, data) != digest:
                return AuditCheck(False, index - 1, index,
                                  f"record {index} was altered: its hash does not match its content")
            try:
                self._cipher.decrypt_text(data, aad=_aad(seq, rec_prev))
            except DataLocked:
                return AuditCheck(False, index - 1, index,
                                  f"record {index} cannot be authenticated with this data key (forged or altered)")
            seen[seq] = digest
            prev = digest
        head = self._read_head()
        if head is None:
            if lines:
                return AuditCheck(False, len(lines), len(lines) + 1,
                                  "the signed head (audit.head) is missing or damaged: the log may have been cut short")
            return AuditCheck(True, 0)
        h_seq, h_hash, h_mac = head
        if not hmac.compare_digest(h_mac, self._head_mac(h_seq, h_hash)):
            return AuditCheck(False, len(lines), h_seq, "the signed head (audit.head) was altered")
        if h_seq > len(lines):
            return AuditCheck(False, len(lines), len(lines) + 1,
                              f"the log was cut short: it ends at record {len(lines)}, but record {h_seq} was written")
        if seen.get(h_seq) != h_hash:
            return AuditCheck(False, len(lines), h_seq, f"record {h_seq} differs from the one the signed head names")
        return AuditCheck(True, len(lines))

    def _read_head(self) -> tuple[int, str, str] | None:
        try:
            head = json.loads(self.head_path.read_text(encoding="ascii"))
            return int(head["seq"]), str(head["hash"]), str(head["mac"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def records(self) -> Iterator[AuditRecord]:
        """Decrypt the records in order; stops with AuditError at a record that cannot be read."""
        for index, raw in enumerate(self._lines(), start=1):
            try:
                item = json.loads(raw)
                plain = json.loads(self._cipher.decrypt_text(str(item["data"]), aad=_aad(int(item["seq"]),
                                                                                       str(item["prev"]))))
            except (ValueError, KeyError, TypeError, DataLocked) as exc:
                raise AuditError(f"audit record {index} cannot be read; run `sanctum audit verify`") from exc
            yield AuditRecord(seq=int(item["seq"]), time=plain["time"], user=plain["user"], event=plain["event"],
                              details=dict(plain.get("details") or {}))

    def export(self, out: IO[str]) -> AuditCheck:
        """Write a readable copy (one line per record, after a verification line); returns the check."""
        check = self.verify()
        state = "intact" if check.ok else f"BROKEN at record {check.first_broken}: {check.problem}"
        out.write(f"# Sanctum audit log: {check.records} records, chain {state}\n")
        out.write("# seq\ttime (UTC)\tuser\tevent\tdetails\n")
        readable = None if check.first_broken is None else check.first_broken - 1
        for rec in itertools.islice(self.records(), readable):
            details = json.dumps(rec.details, ensure_ascii=False, sort_keys=True)
            out.write(f"{rec.seq}\t{rec.time}\t{rec.user}\t{rec.event}\t{details}\n")
        return check


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
