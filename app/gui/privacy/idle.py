"""Noticing that nobody has used the app for a while (the app lock's idle time).

An application-wide event filter records the time of the last mouse or keyboard input; a timer
asks :meth:`IdleWatcher.check` every few seconds. The clock is an attribute, so a test moves time
forward and calls :meth:`check` instead of waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

_INPUT = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseMove,
          QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.Wheel, QEvent.Type.TouchBegin,
          QEvent.Type.TouchUpdate}


class IdleWatcher(QObject):
    """Emits :attr:`sig_idle` once after ``minutes`` without input (re-armed by :meth:`reset`).

    Args:
        clock: Seconds, monotonic (``time.monotonic`` unless a test gives its own).
        interval_ms: How often the timer checks.
    """

    sig_idle = Signal()
    """Emitted when the idle time has passed without mouse or keyboard input."""

    def __init__(self, parent: QObject | None = None, *, clock: Callable[[], float] = time.monotonic,
                 interval_ms: int = 5_000) -> None:
        super().__init__(parent)
        self.clock = clock
        self.minutes: int | None = None
        self.last_input = clock()
        self._armed = True
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def watch(self, minutes: int | None) -> None:
        """Lock after ``minutes`` without input; None stops watching."""
        self.minutes = minutes
        self.reset()
        if minutes:
            self._timer.start()
        else:
            self._timer.stop()

    def reset(self) -> None:
        """Count from now (after an unlock) and emit again next time."""
        self.last_input = self.clock()
        self._armed = True

    def check(self) -> bool:
        """Emit :attr:`sig_idle` if the idle time has passed; True when it did."""
        if not self.minutes or not self._armed:
            return False
        if self.clock() - self.last_input >= self.minutes * 60:
            self._armed = False
            self.sig_idle.emit()
            return True
        return False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self.last_input = self.clock()
        return False
