"""Turns the privacy actions of the window and the settings into calls on the engine, off the UI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.engine import Engine
from app.core.errors import SanctumError
from app.core.privacy.service import AuditCheck
from app.gui.tasks import Failed, Lanes

log = logging.getLogger(__name__)


def describe_check(check: AuditCheck) -> str:
    """The result of an audit-log check, in words."""
    n = f"{check.records} record{'s' if check.records != 1 else ''}"
    if check.ok:
        return f"The audit log is intact: {n} checked, none altered, removed or cut off."
    return f"The audit log is BROKEN at record {check.first_broken}: {check.problem} ({n} intact before it)."


def describe_export(result: Any, redact: bool) -> str:
    """'Exported to … — 3 personal details removed (2 email, 1 phone).'"""
    text = f"Exported to {result.path}"
    if not redact:
        return text + " (personal data kept)."
    total = sum(result.redacted.values())
    if not total:
        return text + " — no personal data found to remove."
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.redacted.items()))
    return text + f" — {total} personal detail{'s' if total != 1 else ''} removed ({kinds})."


class PrivacyController(QObject):
    """App lock, audit check and export for one window; results come back on the UI thread."""

    sig_lock_changed = Signal()
    """Emitted after the app lock was turned on, changed or turned off."""

    def __init__(self, engine: Engine, lanes: Lanes, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.lanes = engine, lanes
        self.service = engine.privacy_service()
        self.lock = self.service.lock

    # -- app lock ---------------------------------------------------------------------------

    def lock_enabled(self) -> bool:
        try:
            return self.lock.enabled
        except SanctumError:
            return True  # a damaged lock file: stay locked; the lock screen says what to do

    def idle_minutes(self) -> int | None:
        try:
            return self.lock.idle_minutes
        except SanctumError:
            return None

    def unlock(self, passphrase: str, on_done: Callable[[bool], None], on_failed: Failed) -> None:
        """Check the lock passphrase; a wrong one is recorded in the audit log."""

        self.lanes.run(self.lanes.io, lambda: self.service.unlock(passphrase), on_done, on_failed)

    def set_lock(self, passphrase: str, idle_minutes: int, current: str | None,
                 on_done: Callable[[str], None], on_failed: Failed) -> None:
        """Turn the lock on (``current`` None) or change it."""

        def work() -> str:
            changed = self.service.set_lock(passphrase, idle_minutes=idle_minutes, current=current)
            return (f"App lock changed: Sanctum locks after {idle_minutes} minutes without use." if changed else
                    f"App lock on: Sanctum asks for the passphrase on start and after {idle_minutes} minutes "
                    "without use.")

        self.lanes.run(self.lanes.io, work, lambda text: (self.sig_lock_changed.emit(), on_done(text)), on_failed)

    def clear_lock(self, current: str, on_done: Callable[[str], None], on_failed: Failed) -> None:
        def work() -> str:
            self.service.clear_lock(current)
            return "App lock off."

        self.lanes.run(self.lanes.io, work, lambda text: (self.sig_lock_changed.emit(), on_done(text)), on_failed)

    # -- audit and export -------------------------------------------------------------------

    def verify_audit(self, on_done: Callable[[AuditCheck], None], on_failed: Failed) -> None:
        self.lanes.run(self.lanes.io, self.service.verify_audit, on_done, on_failed)

    def export(self, conv_id: str, path: Path, *, redact: bool, on_done: Callable[[str], None],
               on_failed: Failed) -> None:
        """Export a saved conversation (recorded in the audit log)."""

        def work() -> str:
            conversations = self.engine.conversation_service()
            result = conversations.export(conversations.get(conv_id), path, redact=redact)
            return describe_export(result, redact)

        self.lanes.run(self.lanes.io, work, on_done, on_failed)
