"""One way to write to Sanctum's SQLite databases: an immediate transaction, all or nothing; and a
connection that threads share safely."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception (the connection must be in
    autocommit mode, ``isolation_level=None``)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Rows:
    """A query's result, read in full while the connection was held (so that no other thread's
    statement runs between two fetches); used like a cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows: list[Any] = cursor.fetchall()
        self.rowcount = cursor.rowcount
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class SerialConnection:
    """One SQLite connection shared by threads, one statement or transaction at a time.

    Thread rule: every statement runs under ``lock`` (re-entrant), and a transaction holds it from
    ``BEGIN`` to ``COMMIT`` (see :meth:`transaction`), so another thread's write can never land
    inside it, nor a read see it half done.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.raw = connection
        self.lock = threading.RLock()

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Rows:
        with self.lock:
            return Rows(self.raw.execute(sql, parameters))

    def executescript(self, script: str) -> None:
        with self.lock:
            self.raw.executescript(script)

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    @contextmanager
    def transaction(self, *, join: bool = False) -> Iterator[SerialConnection]:
        """Hold the connection for an immediate transaction; with ``join``, a transaction this
        thread already has open is joined instead of nested."""
        with self.lock:
            if join and self.raw.in_transaction:
                yield self
                return
            with transaction(self.raw):
                yield self

    def close(self) -> None:
        with self.lock:
            self.raw.close()
