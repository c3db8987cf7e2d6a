"""The optional app lock: a passphrase asked on start and after idle time (shared ward PCs).

Only a verifier is stored, in ``applock.json`` in the data directory: an scrypt hash of the lock
passphrase with its salt and parameters, plus the idle time. The lock guards the window, not the
data: the data stays encrypted under the data key whether the app is locked or not (see
:mod:`app.core.privacy.keys`). The desktop app shows the dialog; this module only sets, checks and clears.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from pathlib import Path

from app.core.config import atomic_write_text
from app.core.errors import SanctumError

FILENAME = "applock.json"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MIN_LENGTH = 4


class AppLockError(SanctumError):
    """The lock passphrase was refused (too short, or wrong when changing or clearing it)."""


def _hash(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


class AppLock:
    """The lock settings of one data directory.

    Args:
        root: The data directory.
    """

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / FILENAME

    def _load(self) -> dict[str, object] | None:
        if not self.path.exists():
            return None
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise AppLockError(f"{self.path} is damaged ({exc}); delete it to remove the app lock") from exc

    @property
    def enabled(self) -> bool:
        return self._load() is not None

    @property
    def idle_minutes(self) -> int | None:
        """Minutes of inactivity after which the app locks; None when the lock is off."""
        info = self._load()
        return int(info["idle_minutes"]) if info else None  # type: ignore[call-overload]

    def set(self, passphrase: str, *, idle_minutes: int = 10, current: str | None = None) -> None:
        """Turn the lock on, or change its passphrase or idle time.

        Args:
            passphrase: The new lock passphrase.
            idle_minutes: Lock after this many minutes without input (1 or more).
            current: The current passphrase, needed when a lock is already set.
        """
        if self.enabled and not (current is not None and self.verify(current)):
            raise AppLockError("the current lock passphrase is needed to change the app lock")
        if len(passphrase) < MIN_LENGTH:
            raise AppLockError(f"the lock passphrase must have at least {MIN_LENGTH} characters")
        if idle_minutes < 1:
            raise AppLockError("the idle time must be at least 1 minute")
        salt = os.urandom(16)
        digest = _hash(passphrase, salt, **_SCRYPT)
        atomic_write_text(self.path, json.dumps({
            "version": 1, "kdf": "scrypt", **_SCRYPT, "salt": base64.b64encode(salt).decode("ascii"),
            "hash": base64.b64encode(digest).decode("ascii"), "idle_minutes": int(idle_minutes),
        }, indent=2) + "\n")

    def verify(self, passphrase: str) -> bool:
        """True when ``passphrase`` unlocks the app (also True when no lock is set)."""
        info = self._load()
        if info is None:
            return True
        try:
            salt = base64.b64decode(str(info["salt"]))
            expected = base64.b64decode(str(info["hash"]))
            params = {k: int(info[k]) for k in ("n", "r", "p")}  # type: ignore[call-overload]
        except (KeyError, ValueError) as exc:
            raise AppLockError(f"{self.path} is damaged; delete it to remove the app lock") from exc
        return hmac.compare_digest(_hash(passphrase, salt, **params), expected)

    def clear(self, current: str) -> None:
        """Turn the lock off; needs the current passphrase."""
        if not self.enabled:
            return
        if not self.verify(current):
            raise AppLockError("wrong lock passphrase: the app lock stays on")
        self.path.unlink(missing_ok=True)
