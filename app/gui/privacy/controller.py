"""Turns the privacy actions of the window and the settings into calls on the engine, off the UI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.engine import Engine
from app.core.errors import SanctumError
from app.core.privacy.audit import APPLOCK_CLEARED, APPLOCK_SET, APPLOCK_UNLOCK_FAILED, AuditCheck
from app.core.privacy.lock import AppLock
from app.gui.tasks import Lanes

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
        self._missed = 0  # wrong passphrases before the data was open (recorded once it is)
        self.lock: AppLock = engine.app_lock

    def _audit(self, event: str, **details: Any) -> None:
        try:
            self.engine.audit.record(event, **details)
        except SanctumError as exc:  # the data may be locked; the lock itself still works
            log.warning("could not record %s in the audit log: %s", event, exc)

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

    def unlock(self, passphrase: str, on_done: Callable[[bool], None], on_failed: Callable[[str], None]) -> None:
        """Check the lock passphrase (it opens the data when that is not open yet); a wrong one is
        recorded in the audit log once the data can be written."""

        def work() -> bool:
            ok = self.engine.unlock(passphrase)
            if not ok and self.engine.loaded_key() is None:
                self._missed += 1  # the audit log cannot be written before the data is open
            elif not ok:
                self._audit(APPLOCK_UNLOCK_FAILED)
            elif self._missed:
                self._audit(APPLOCK_UNLOCK_FAILED, attempts=self._missed, before_unlock=True)
                self._missed = 0
            return ok

        self.lanes.run(self.lanes.io, work, on_done, on_failed)

    def set_lock(self, passphrase: str, idle_minutes: int, current: str | None,
                 on_done: Callable[[str], None], on_failed: Callable[[str], None]) -> None:
        """Turn the lock on (``current`` None) or change it."""

        def work() -> str:
            changed = self.lock.enabled
            self.lock.set(passphrase, idle_minutes=idle_minutes, current=current)
            self._audit(APPLOCK_SET, idle_minutes=idle_minutes, changed=changed)
            return (f"App lock changed: Sanctum locks after {idle_minutes} minutes without use." if changed else
                    f"App lock on: Sanctum asks for the passphrase on start and after {idle_minutes} minutes "
                    "without use.")

        self.lanes.run(self.lanes.io, work, lambda text: (self.sig_lock_changed.emit(), on_done(text)), on_failed)

    def clear_lock(self, current: str, on_done: Callable[[str], None], on_failed: Callable[[str], None]) -> None:
        def work() -> str:
            self.lock.clear(current)
            self._audit(APPLOCK_CLEARED)
            return "App lock off."

        self.lanes.run(self.lanes.io, work, lambda text: (self.sig_lock_changed.emit(), on_done(text)), on_failed)

    # -- audit and export -------------------------------------------------------------------

    def verify_audit(self, on_done: Callable[[AuditCheck], None], on_failed: Callable[[str], None]) -> None:
        self.lanes.run(self.lanes.io, lambda: self.engine.audit.verify(), on_done, on_failed)

    def export(self, conv_id: str, path: Path, *, redact: bool, on_done: Callable[[str], None],
               on_failed: Callable[[str], None]) -> None:
        """Export a saved conversation (the engine records it in the audit log)."""
        from app.core.privacy.export import from_saved

        def work() -> str:
            store = self.engine.conversations()
            saved = store.get(conv_id)
            conversation = from_saved(saved.title, saved.created_at, store.messages(conv_id))
            result = self.engine.export_conversation(conversation, path, redact=redact)
            return describe_export(result, redact)

        self.lanes.run(self.lanes.io, work, on_done, on_failed)
