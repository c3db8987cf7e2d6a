"""The app's worker lanes: where long work runs, off the UI thread.

Three lanes, each one thread so work in a lane runs in the order it was asked for:
- ``inference``: the chat model (llama.cpp is not re-entrant): loading, answering, reloading;
- ``ingest``: reading and indexing files, and removing documents (never while indexing runs);
- ``io``: short reads and writes (the library list, conversations, model headers, finding a
  cited passage in its file).

:meth:`Lanes.run` posts a function's result *or its exception* back to the UI thread, so a caller is
always told how its work ended, and can tell a locked data folder from a damaged file by the
exception's type (:func:`user_message` turns it into words at the last moment). Streaming work
(answers, ingestion) uses its own ``*Worker`` runnables with their own signals (see
``chat/workers.py``, ``library/workers.py``).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from app.core.errors import SanctumError

log = logging.getLogger(__name__)

Failed = Callable[[BaseException], None]
"""What a lane calls on the UI thread when the work raised: with the exception itself."""


def user_message(exc: BaseException) -> str:
    """What to tell a person about an error: the engine's own message, or a plain fallback."""
    if isinstance(exc, SanctumError):
        return str(exc)
    return f"Something unexpected went wrong ({type(exc).__name__}: {exc}). Your work is saved; please try again."


class _TaskSignals(QObject):
    sig_done = Signal(object)
    """Emitted with the function's return value."""

    sig_failed = Signal(object)
    """Emitted with the exception (a BaseException) when the function raised."""


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _TaskSignals()

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - the caller must hear back, whatever happened
            if not isinstance(exc, SanctumError):
                log.error("task failed:\n%s", traceback.format_exc())
            self.signals.sig_failed.emit(exc)
        else:
            self.signals.sig_done.emit(result)


class _Relay(QObject):
    """Delivers one task's outcome on the UI thread."""

    def __init__(self, on_done: Callable[[Any], None] | None, on_failed: Failed | None,
                 finished: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._on_done, self._on_failed, self._finished = on_done, on_failed, finished

    @Slot(object)
    def done(self, result: object) -> None:
        self._finished()
        self.deleteLater()
        if self._on_done:
            self._on_done(result)

    @Slot(object)
    def failed(self, error: BaseException) -> None:
        self._finished()
        self.deleteLater()
        if self._on_failed:
            self._on_failed(error)
        else:
            log.warning("background task failed: %s", user_message(error))


class Lanes(QObject):
    """Owns the worker threads; one instance per window."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.inference = self._pool("inference")
        self.ingest = self._pool("ingest")
        self.io = self._pool("io")
        self._pending: dict[int, tuple[_Task, _Relay]] = {}

    def _pool(self, name: str) -> QThreadPool:
        pool = QThreadPool(self)
        pool.setObjectName(name)
        pool.setMaxThreadCount(1)
        pool.setExpiryTimeout(-1)  # keep the thread: llama.cpp and torch like a stable thread
        return pool

    def run(
        self,
        pool: QThreadPool,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Failed | None = None,
    ) -> None:
        """Run ``fn`` in ``pool``; ``on_done(result)`` or ``on_failed(exception)`` runs on the UI thread."""
        task = _Task(fn)
        task.setAutoDelete(False)
        # A QObject living on the UI thread receives the signals, so Qt queues the call to it.
        relay = _Relay(on_done, on_failed, lambda: self._pending.pop(id(task), None), self)
        self._pending[id(task)] = (task, relay)
        task.signals.sig_done.connect(relay.done)
        task.signals.sig_failed.connect(relay.failed)
        pool.start(task)

    def start(self, pool: QThreadPool, worker: QRunnable) -> None:
        """Start a streaming ``*Worker`` (it owns its signals)."""
        pool.start(worker)

    def wait(self, msecs: int = 15_000) -> bool:
        """Wait for every lane to finish (closing the window); True when all did in time."""
        ok = True
        for pool in (self.inference, self.ingest, self.io):
            ok = pool.waitForDone(msecs) and ok
        return ok
