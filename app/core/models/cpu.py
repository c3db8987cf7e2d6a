"""Who gets the CPU: an answer being written comes before background work.

llama.cpp's threads spin at barriers, so on a two-core PC an answer written while the ingest's
encoder runs takes many times longer, not twice as long. Answers hold the gate in the foreground;
background work (embedding a batch of chunks) waits for its turn between batches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class CpuGate:
    """Foreground work (answers) pauses background work (ingest embedding) between its steps.

    Thread rule: any thread may hold the foreground or wait for its turn; the gate has one lock.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._foreground = 0

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Hold the CPU for the duration of the block (re-entrant across threads: a count)."""
        with self._cond:
            self._foreground += 1
        try:
            yield
        finally:
            with self._cond:
                self._foreground -= 1
                self._cond.notify_all()

    def wait_turn(self, cancelled: Callable[[], bool] | None = None, *, poll_s: float = 0.2) -> float:
        """Block while foreground work runs (or until ``cancelled``); returns the seconds waited."""
        import time

        start = time.perf_counter()
        with self._cond:
            while self._foreground > 0 and not (cancelled and cancelled()):
                self._cond.wait(poll_s)
        return time.perf_counter() - start
