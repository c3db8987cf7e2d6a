"""The audit trail: who did what, and when, in an append-only, tamper-evident log.

One JSON line per record in ``audit.log``::

    {"seq": 7, "prev": "<hash of record 6>", "data": "<encrypted record>", "hash": "<sha256>"}

``hash`` is SHA-256 over ``seq``, ``prev`` and ``data``, so each record is chained to the one
before: changing, removing or reordering a record breaks the chain from that record on, and anyone
can check the chain without the key. The record itself (time, OS user, event, details) is encrypted
with AES-256-GCM, its sequence number and predecessor as associated data, so it can be neither read
nor forged without the key. ``audit.head`` holds the last sequence number and hash under a keyed MAC,
which catches a log cut short at the end. The last sequence number and hash are also kept in the
encrypted library (an :class:`AuditAnchor`), so a log deleted together with its head, or both rolled
back to an earlier state, is reported too. Rolling back the library as well cannot be told from a
genuine state by this machine alone: an exported copy kept elsewhere covers that.

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
from typing import IO, Any, Protocol

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
SHARED_LIBRARY_CREATED = "shared_library.created"  # a library on a Chroma server (app.core.team.store)
SHARED_LIBRARY_JOINED = "shared_library.joined"
SHARED_LIBRARY_INVITED = "shared_library.invited"
SHARED_LIBRARY_MEMBER_REMOVED = "shared_library.member_removed"  # and the library re-keyed


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


class AuditAnchor(Protocol):
    """Where the last record's sequence number and hash are kept apart from the log (encrypted)."""

    def load(self) -> tuple[int, str] | None:
        """The last (sequence number, hash) saved, or None when none was."""

    def save(self, seq: int, digest: str) -> None:
        """Remember (sequence number, hash) of the record just written."""


class LibraryAnchor:
    """An :class:`AuditAnchor` kept as a sealed value in the library database.

    Args:
        library: Anything with ``sealed(name)`` and ``seal_value(name, value)`` (the registry).
    """

    NAME = "audit.anchor"

    def __init__(self, library: Any) -> None:
        self._library = library

    def load(self) -> tuple[int, str] | None:
        raw = self._library.sealed(self.NAME)
        if raw is None:
            return None
        item = json.loads(raw)
        return int(item["seq"]), str(item["hash"])

    def save(self, seq: int, digest: str) -> None:
        self._library.seal_value(self.NAME, json.dumps({"seq": seq, "hash": digest}).encode("ascii"))


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
        anchor: Keeps the last record's number and hash apart from the log (see :class:`AuditAnchor`).
    """

    def __init__(self, path: Path, cipher: Cipher, *, full_questions: Callable[[], bool] = lambda: False,
                 user: str | None = None, anchor: AuditAnchor | None = None) -> None:
        self._anchor = anchor
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
                self._advance_anchor(seq, prev, digest)
        except OSError as exc:
            raise AuditError(f"the audit log {self.path} could not be written: {exc.strerror or exc}") from exc
        return rec

    def question(self, text: str) -> AuditRecord:
        """Record a question: its keyed hash, or the full text when the user enabled that."""
        if self._full_questions():
            return self.record(QUESTION_ASKED, question=text)
        digest = self._cipher.keyed_hash(b"question:" + text.encode("utf-8")).hex()
        return self.record(QUESTION_ASKED, question_hmac=digest, length=len(text))

    def path_hash(self, path: Path | str) -> str:
        """The keyed hash a document's path is logged under: the log never keeps a file name (it
        often names a patient), yet the same path always gives the same hash, so whoever holds the
        key can ask "what happened to this file?" (:meth:`records_for_path`)."""
        return self._cipher.keyed_hash(b"audit-path:" + str(path).encode("utf-8")).hex()

    def records_for_path(self, path: Path | str) -> list[AuditRecord]:
        """The records about one file (by its keyed hash, or its path in records from older versions)."""
        digest, text = self.path_hash(path), str(path)
        return [r for r in self.records() if r.details.get("path_hmac") == digest or r.details.get("path") == text]

    def question_hash(self, text: str) -> str:
        """The hash a question is logged under (to check whether a given question was asked)."""
        return self._cipher.keyed_hash(b"question:" + text.encode("utf-8")).hex()

    def _advance_anchor(self, seq: int, prev: str, digest: str) -> None:
        """Move the anchor to the record just written, but only when the log still holds the record
        the anchor names: a deleted or rolled-back log must stay reported, not be adopted."""
        if self._anchor is None:
            return
        try:
            current = self._anchor.load()
        except (DataLocked, ValueError, KeyError, TypeError):
            return  # an altered anchor stays as it is: verify reports it
        if current is None or (current[0] == seq - 1 and current[1] == prev) or (
                current[0] < seq - 1 and self._hash_at(current[0]) == current[1]):
            self._anchor.save(seq, digest)

    def _hash_at(self, seq: int) -> str | None:
        lines = self._lines()
        if not 1 <= seq <= len(lines):
            return None
        try:
            return str(json.loads(lines[seq - 1])["hash"])
        except (ValueError, KeyError, TypeError):
            return None

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
        """Check the chain, every record's encryption, the signed head and the anchor kept in the
        library; report the first break."""
        check = self._verify_file()
        broken = self.check_anchor(check)
        return broken or check

    def check_anchor(self, check: AuditCheck | None = None) -> AuditCheck | None:
        """The problem when the log no longer holds the last record the encrypted library remembers
        (deleted, cut short, replaced or rolled back); None when it does. Cheap: no record is
        decrypted, so it runs at every start-up.

        Args:
            check: The result of the file's own verification, when it was made (for the counts).
        """
        if self._anchor is None:
            return None
        lines = len(self._lines())
        try:
            anchor = self._anchor.load()
        except (DataLocked, ValueError, KeyError, TypeError):
            return AuditCheck(False, 0, 1, "the audit log's record kept in the encrypted library was altered")
        records = check.records if check is not None else lines
        if anchor is None:
            if check is not None and check.ok and check.records:  # a log from before the anchor: adopt it
                tail = self._hash_at(check.records)
                if tail is not None:
                    self._anchor.save(check.records, tail)
            return None
        a_seq, a_hash = anchor
        if lines < a_seq:
            what = "is missing" if lines == 0 else f"ends at record {lines}"
            return AuditCheck(False, min(records, lines), lines + 1,
                              f"the audit log {what}, but {a_seq} records were written (the encrypted library "
                              "remembers them): it was deleted or rolled back")
        if self._hash_at(a_seq) != a_hash:
            return AuditCheck(False, min(records, a_seq - 1), a_seq,
                              f"record {a_seq} differs from the one the encrypted library remembers: the log was "
                              "replaced or rolled back")
        return None

    def _verify_file(self) -> AuditCheck:
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
