"""The status bar's network indicator: "Offline" only while the network guard is in force.

The guard (:mod:`app.core.privacy.netguard`) is installed by the launcher (:func:`app.cli.main`, which both
``sanctum`` and ``sanctum gui`` go through). When it is missing or its self-test failed, the
indicator says so plainly instead of claiming "Offline". Each blocked attempt is reported by the
guard from whichever thread made it; a signal carries it to the UI thread for the tooltip.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

from app.core.privacy import netguard
from app.gui import theme

_UNSET = object()


@dataclass(frozen=True)
class OfflineState:
    """The indicator's text and tooltip; ``guarded`` when the network guard is in force."""

    guarded: bool
    text: str
    detail: str


def offline_state(guard: netguard.NetGuard | None) -> OfflineState:
    """What to say about ``guard`` (None: no guard was installed in this process)."""
    if guard is not None and guard.active:
        n = guard.attempt_count
        blocked = ("No connection has been attempted." if n == 0 else
                   f"{n} connection attempt{'s were' if n != 1 else ' was'} blocked.")
        servers = guard.servers
        if servers:
            host, port = servers[0]
            where = ", ".join(f"{h}:{p}" for h, p in servers)
            return OfflineState(True, f"Team server: {host}",
                                f"Answers are written by your team's server ({where}). Questions and the passages "
                                "they need go to it, encrypted, and to nothing else: every other connection is "
                                f"blocked. {blocked} To go back to the model on this computer, open Settings.")
        return OfflineState(True, "Offline", "Network connections are blocked inside Sanctum: your documents, "
                            f"questions and answers stay on this computer. {blocked}")
    why = ("the network guard is not installed in this process" if guard is None
           else "the network guard could not prove that it blocks connections")
    return OfflineState(False, "Network guard off",
                        f"Warning: {why}. Sanctum itself has no network features, but nothing inside it is "
                        "stopping a connection. Start Sanctum with the `sanctum` command to turn the guard on.")


class OfflineIndicator(QLabel):
    """The status bar label; follows the guard's attempt count live.

    Args:
        guard: The process's guard; by default :func:`app.core.privacy.netguard.current`.
    """

    sig_attempt = Signal()
    """Emitted (from any thread) when the guard blocked a connection; handled on the UI thread."""

    def __init__(self, parent: QWidget | None = None, *, guard: object = _UNSET) -> None:
        super().__init__(parent)
        self.guard: netguard.NetGuard | None = netguard.current() if guard is _UNSET else guard  # type: ignore[assignment]
        self.setAccessibleName("Network status")
        self.sig_attempt.connect(self._on_self_attempt)
        if self.guard is not None:
            self.guard.subscribe(lambda _attempt: self.sig_attempt.emit())
            self.guard.on_change(self.sig_attempt.emit)  # a team server allowed or forgotten
        self.refresh()

    @property
    def state(self) -> OfflineState:
        return offline_state(self.guard)

    def refresh(self) -> None:
        state = self.state
        color = theme.ok_color() if state.guarded else theme.warn_color()
        mark = "●" if state.guarded else "▲"
        self.setText(f"<span style='color:{color}'>{mark}</span> {html.escape(state.text)}")
        self.setToolTip(state.detail)
        self.setAccessibleDescription(f"{state.text}. {state.detail}")

    @Slot()
    def _on_self_attempt(self) -> None:
        self.refresh()
