"""Who gets the CPU: an answer being written comes before background work.

llama.cpp's threads spin at barriers, so on a two-core PC an answer written while the ingest's
encoder runs takes many times longer, not twice as long. Answers hold the gate in the foreground;
background work (embedding a batch of chunks) waits for its turn between batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class CpuGate:
    """Foreground work (answers) pauses background work (ingest embedding) between its steps.

    Turns alternate: an answer waits for the background step already running to end (so the two
    never share the cores), and when an answer ends while background work waits, that work gets
    one step before the next answer starts (so questions asked back to back cannot stall an ingest
    for ever). Either wait is bounded by ``max_yield_s``.

    Thread rule: any thread may hold the foreground or wait for its turn; the gate has one lock.
    """

    def __init__(self, *, max_yield_s: float = 3.0) -> None:
        self._cond = threading.Condition()
        self._foreground = 0
        self._waiting = 0  # background workers blocked in wait_turn
        self._fg_waiting = 0  # answers waiting for a background step to end
        self._owed = False  # an answer ended while background work waited: it goes next
        self._step = False  # a background step is running
        self.max_yield_s = max_yield_s

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Hold the CPU for the duration of the block (re-entrant across threads: a count)."""
        with self._cond:
            deadline = time.monotonic() + self.max_yield_s
            self._fg_waiting += 1
            try:
                while self._foreground == 0 and (self._owed or self._step):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            finally:
                self._fg_waiting -= 1
            self._foreground += 1
        try:
            yield
        finally:
            with self._cond:
                self._foreground -= 1
                if self._foreground == 0 and self._waiting:
                    self._owed = True
                self._cond.notify_all()

    def wait_turn(self, cancelled: Callable[[], bool] | None = None, *, poll_s: float = 0.2) -> float:
        """Call before each background step: blocks while foreground work runs (or until
        ``cancelled``); returns the seconds waited. The step then counts as running until the next
        call or :meth:`step_done`."""
        start = time.perf_counter()
        with self._cond:
            self._step = False  # the previous step is over
            self._cond.notify_all()
            self._waiting += 1
            try:
                # wait while an answer runs, or one waits for its turn (unless this step is owed)
                while (self._foreground > 0 or (self._fg_waiting > 0 and not self._owed)) and not (
                        cancelled and cancelled()):
                    self._cond.wait(poll_s)
            finally:
                self._waiting -= 1
            self._owed = False
            self._step = True
            self._cond.notify_all()
        return time.perf_counter() - start

    def step_done(self) -> None:
        """The background work's last step ended (an answer need not wait for it)."""
        with self._cond:
            self._step = False
            self._cond.notify_all()
