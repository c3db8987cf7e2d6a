"""Privacy operations, as front ends see them: the app lock, the audit log, and wiping the data.

Thread rule: any thread may call it; the audit log serialises its own writes and the app lock
is a small file written atomically. ``wipe`` must run with nothing else using the data folder
(the engine is closed first, through the ``close`` it was given).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from app.core.errors import SanctumError
from app.core.privacy.audit import AuditCheck  # a value type, re-exported for front ends
from app.core.privacy.keys import TooManyAttempts  # re-exported: the lock screen says how long to wait
from app.core.privacy.lock import MIN_LENGTH, AppLock  # MIN_LENGTH re-exported for front ends
from app.core.privacy.wipe import WipeRefused  # re-exported for front ends

if TYPE_CHECKING:
    from app.core.privacy.audit import AuditLog, AuditRecord

__all__ = ["MIN_LENGTH", "AuditCheck", "PrivacyService", "TooManyAttempts", "WipeRefused"]

log = logging.getLogger(__name__)

class PrivacyService:
    """App lock, audit log and wipe of one data folder.

    Args:
        root: The data folder.
        audit: Opens the audit log (it needs the data key, so it may ask for the passphrase).
        close: Closes everything that holds files in the data folder open (before a wipe).
        lock: The engine's app lock (it wraps the data key, so it comes from the engine).
        unlock: Checks the lock passphrase, opening the data with it when it is not open yet.
        is_open: Whether the data is open (the audit log can be written).
    """

    def __init__(self, root: Path, *, audit: Callable[[], AuditLog], close: Callable[[], None],
                 lock: Callable[[], AppLock] | None = None, unlock: Callable[[str], bool] | None = None,
                 is_open: Callable[[], bool] = lambda: True) -> None:
        self.root = Path(root)
        self._audit = audit
        self._close = close
        self._lock_provider = lock
        self._unlock = unlock
        self._is_open = is_open
        self._lock: AppLock | None = None
        self._missed = 0  # wrong lock passphrases before the data was open (recorded once it is)

    @property
    def lock(self) -> AppLock:
        """The app lock (it can be checked while the data itself is locked)."""
        if self._lock is None:
            self._lock = self._lock_provider() if self._lock_provider else AppLock(self.root)
        return self._lock

    def set_server_token(self, server_url: str, token: str | None) -> None:
        """Keep (or, with None, forget) a team server's API token in the OS keyring."""
        from app.core.config import parse_server_url
        from app.core.privacy.tokens import store_token

        store_token(parse_server_url(server_url), token)

    def record(self, event: str, **details: Any) -> AuditRecord:
        """Append an event to the audit log (the event names are in :mod:`app.core.privacy.audit`)."""
        return self._audit().record(event, **details)

    def _record_if_open(self, event: str, **details: Any) -> None:
        """Record a lock event; the data may be locked, and the lock itself must still work."""
        try:
            self.record(event, **details)
        except SanctumError as exc:
            log.warning("could not record %s in the audit log: %s", event, exc)

    def unlock(self, passphrase: str) -> bool:
        """Check the lock passphrase (with the lock on and the data not open yet, it opens the data);
        a wrong one is recorded in the audit log, once the data is open.

        Raises:
            TooManyAttempts: Wrong passphrases in a row: this try must wait.
        """
        from app.core.privacy.audit import APPLOCK_UNLOCK_FAILED

        ok = self._unlock(passphrase) if self._unlock else self.lock.verify(passphrase)
        if not ok and not self._is_open():
            self._missed += 1  # the audit log cannot be written before the data is open
        elif not ok:
            self._record_if_open(APPLOCK_UNLOCK_FAILED)
        elif self._missed:
            self._record_if_open(APPLOCK_UNLOCK_FAILED, attempts=self._missed, before_unlock=True)
            self._missed = 0
        return ok

    def set_lock(self, passphrase: str, *, idle_minutes: int, current: str | None) -> bool:
        """Turn the app lock on (``current`` None) or change it; True when it was changed."""
        from app.core.privacy.audit import APPLOCK_SET

        changed = self.lock.enabled
        self.lock.set(passphrase, idle_minutes=idle_minutes, current=current)
        self._record_if_open(APPLOCK_SET, idle_minutes=idle_minutes, changed=changed)
        return changed

    def clear_lock(self, current: str) -> None:
        """Turn the app lock off (the current passphrase is needed)."""
        from app.core.privacy.audit import APPLOCK_CLEARED

        self.lock.clear(current)
        self._record_if_open(APPLOCK_CLEARED)

    def records_for_path(self, path: Path | str) -> list[AuditRecord]:
        """What the audit log holds about one file (it keeps a keyed hash of the path, not the path)."""
        return self._audit().records_for_path(path)

    def verify_audit(self) -> AuditCheck:
        """Check the audit log's chain, encryption and signed head."""
        return self._audit().verify()

    def export_audit(self, out: IO[str], *, destination: str) -> AuditCheck:
        """Write a readable copy of the audit log to ``out`` and record that it was exported."""
        from app.core.privacy.audit import AUDIT_EXPORTED

        log = self._audit()
        check = log.export(out)
        log.record(AUDIT_EXPORTED, output=destination, records=check.records)
        return check

    def wipe(self) -> list[str]:
        """Close everything, then delete the data key and all data (see :mod:`app.core.privacy.wipe`).

        Returns:
            The names removed from the data folder.
        """
        from app.core.privacy.wipe import check_wipeable, wipe_data

        check_wipeable(self.root)  # a folder that is not Sanctum's is refused before anything closes
        self._close()
        return wipe_data(self.root)
