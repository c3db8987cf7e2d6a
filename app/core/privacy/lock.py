"""The optional app lock: a passphrase asked on start and after idle time (shared ward PCs).

The lock is cryptographic (see :mod:`app.core.privacy.keys`): with it on, the data key is kept
wrapped by the lock passphrase, so the window and the ``sanctum`` command both need the passphrase
to open the data, and deleting a file does not turn the lock off. Its idle time is authenticated
with a MAC under the data key. Checking a passphrase means unwrapping the key with it (Argon2id,
about half a second or more), and wrong passphrases in a row wait longer and longer
(:class:`app.core.privacy.keys.UnlockAttempts`), across restarts.

Data folders locked by an older Sanctum keep an ``applock.json`` (an scrypt hash of the passphrase
beside a plain key in the keyring): its passphrase still unlocks, and that unlock moves the lock to
the cryptographic form and deletes the file. The desktop app shows the dialogs; this module only
sets, checks and clears.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.crypto import DataLocked
from app.core.errors import SanctumError
from app.core.privacy.keys import LOCK_AAD, MIN_PASSPHRASE, KeyManager, WeakPassphrase, open_sealed_key

LEGACY_FILENAME = "applock.json"
MIN_LENGTH = MIN_PASSPHRASE


class AppLockError(SanctumError):
    """The lock passphrase was refused (too short, or wrong when changing or clearing it)."""


def _legacy_hash(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


class AppLock:
    """The app lock of one data directory.

    Args:
        root: The data directory.
        key: The data key once the data is open, else None (the lock can be checked without it).
        open_key: Opens the data and returns its key (turning the lock on, changing it or off needs it).
    """

    def __init__(self, root: Path, *, key: Callable[[], bytes | None] = lambda: None,
                 open_key: Callable[[], bytes] | None = None) -> None:
        self.root = Path(root)
        self.keys = KeyManager(self.root)
        self.legacy_path = self.root / LEGACY_FILENAME
        self._key = key
        self._open_key = open_key
        self._sealed: dict[str, Any] | None = None  # the wrapped key last seen: a lock stays a lock

    @property
    def attempts(self) -> Any:
        return self.keys.attempts

    def _current(self) -> dict[str, Any] | None:
        sealed = self.keys.lock_sealed()
        if sealed is not None:
            self._sealed = sealed
        return sealed

    def _legacy(self) -> dict[str, Any] | None:
        if not self.legacy_path.exists():
            return None
        try:
            return dict(json.loads(self.legacy_path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}  # damaged: still locked; its passphrase can no longer be checked

    @property
    def enabled(self) -> bool:
        return self._current() is not None or self._legacy() is not None

    @property
    def idle_minutes(self) -> int | None:
        """Minutes of inactivity after which the app locks; None when the lock is off."""
        minutes = self.keys.lock_idle_minutes(self._key())
        if minutes is not None:
            return minutes
        legacy = self._legacy()
        if legacy is None:
            return None
        try:
            return max(1, int(legacy["idle_minutes"]))
        except (KeyError, TypeError, ValueError):
            return 1

    def set(self, passphrase: str, *, idle_minutes: int = 10, current: str | None = None) -> None:
        """Turn the lock on, or change its passphrase or idle time.

        Args:
            passphrase: The new lock passphrase (8 characters or more).
            idle_minutes: Lock after this many minutes without input (1 or more).
            current: The current passphrase, needed when a lock is already set.
        """
        if self.enabled and not (current is not None and self.verify(current)):
            raise AppLockError("the current lock passphrase is needed to change the app lock")
        if idle_minutes < 1:
            raise AppLockError("the idle time must be at least 1 minute")
        try:
            self.keys.set_lock(self._need_key(), passphrase, idle_minutes=idle_minutes)
        except WeakPassphrase as exc:
            raise AppLockError(f"the lock passphrase was refused: {exc}") from exc
        self._current()
        self.legacy_path.unlink(missing_ok=True)

    def verify(self, passphrase: str) -> bool:
        """True when ``passphrase`` unlocks the app (also True when no lock is set).

        Raises:
            TooManyAttempts: Wrong passphrases in a row: this try must wait (nothing is checked).
        """
        sealed = self._current() or self._sealed
        legacy = self._legacy() if sealed is None else None
        if sealed is None and legacy is None:
            return True
        self.attempts.check()
        if sealed is not None:
            opened = open_sealed_key(sealed, passphrase, aad=LOCK_AAD)
            known = self._key()
            ok = opened is not None and (known is None or hmac.compare_digest(opened, known))
        else:
            ok = self._verify_legacy(legacy or {}, passphrase)
        if not ok:
            self.attempts.failed()
            return False
        self.attempts.succeeded()
        return True

    def _verify_legacy(self, legacy: dict[str, Any], passphrase: str) -> bool:
        """An older Sanctum's lock: check its hash, then move it to the cryptographic lock."""
        try:
            salt = base64.b64decode(str(legacy["salt"]))
            expected = base64.b64decode(str(legacy["hash"]))
            params = {k: int(legacy[k]) for k in ("n", "r", "p")}
        except (KeyError, ValueError, TypeError):
            return False
        if not hmac.compare_digest(_legacy_hash(passphrase, salt, **params), expected):
            return False
        key = self._key()
        if key is None and self._open_key is not None:
            try:  # the old lock left the plain key in the keyring: the data opens without asking
                key = self._open_key()
            except SanctumError:
                key = None  # it needs a passphrase first: moved at a later unlock
        if key is not None and len(passphrase) >= MIN_PASSPHRASE:  # shorter ones stay as they were
            self.keys.set_lock(key, passphrase, idle_minutes=int(legacy.get("idle_minutes", 10)))
            self._current()
            self.legacy_path.unlink(missing_ok=True)
        return True

    def clear(self, current: str) -> None:
        """Turn the lock off; needs the current passphrase."""
        if not self.enabled:
            return
        if not self.verify(current):
            raise AppLockError("wrong lock passphrase: the app lock stays on")
        if self.keys.lock_sealed() is not None:
            self.keys.clear_lock(self._need_key())
        self._sealed = None
        self.legacy_path.unlink(missing_ok=True)

    def _need_key(self) -> bytes:
        key = self._key()
        if key is None and self._open_key is not None:
            key = self._open_key()
        if key is None:
            raise DataLocked("the data must be open to change the app lock")
        return key
