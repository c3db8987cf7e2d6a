"""The data key: created on first run, kept in the OS keyring, never in the data directory.

``keyinfo.json`` in the data directory says how to find the key, and holds nothing secret:
- keyring mode: the keyring entry's name and a check value (a blob encrypted under the key);
- passphrase mode (no keyring on this machine): the scrypt salt and parameters and the data key
  wrapped (AES-GCM) by the passphrase-derived key. Without the passphrase the wrapped key is noise.

There is no silent plaintext fallback: with neither a keyring nor a passphrase, opening fails with
a message that says what to do.

The app lock is cryptographic. With it on, the keyring no longer holds the data key itself but the
key wrapped by the lock passphrase (passphrase mode: a second wrapped copy sits in ``keyinfo.json``),
so neither the window nor the ``sanctum`` command opens the data without that passphrase, and
deleting a settings file does not turn the lock off. The lock's settings (idle time) carry a MAC
under the data key. Passphrases are stretched with Argon2id (:data:`KDF`); keys wrapped with the
older scrypt parameters still open and are re-wrapped on the next unlock. Wrong passphrases are
rate-limited with a growing delay kept on disk (:class:`UnlockAttempts`).
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import math
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.config import atomic_write_text
from app.core.crypto import KEY_BYTES, Cipher, DataLocked
from app.core.errors import PassphraseRequired as PassphraseRequired  # re-exported for the callers of keys
from app.core.errors import SanctumError

SERVICE = "Sanctum"
KEYINFO = "keyinfo.json"
_CHECK = b"sanctum key check v1"
#: How new passphrases are stretched: Argon2id with 128 MiB, 3 passes, 1 lane (about 0.5 to 1 s on a
#: two-core PC, so each guess costs as much). Constants, not tuned at run time: the same passphrase
#: must give the same key on every computer.
KDF: dict[str, Any] = {"kdf": "argon2id", "iterations": 3, "memory_cost": 128 * 1024, "lanes": 1}
MIN_PASSPHRASE = 8
LOCK_AAD = b"data-key/app-lock"
_LOCKED = "sanctum-locked-key"  # marks a keyring entry that holds the key wrapped by the lock passphrase
LOCK_IDLE_IF_ALTERED = 1  # minutes: lock settings that fail their MAC lock soonest

#: Asks the user for a passphrase: (prompt, creating a new one?) -> passphrase, or None if it can't.
PassphraseProvider = Callable[[str, bool], "str | None"]


class WrongPassphrase(DataLocked):
    """The passphrase typed does not open the key."""


class WeakPassphrase(SanctumError):
    """A new passphrase was refused (too short)."""


class TooManyAttempts(SanctumError):
    """Several wrong passphrases in a row: the next try must wait."""

    def __init__(self, seconds: float) -> None:
        self.seconds = math.ceil(seconds)
        super().__init__(f"too many wrong passphrases: wait {self.seconds} second{'s' if self.seconds != 1 else ''} "
                         "and try again")


def check_new_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to protect anything."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise WeakPassphrase(f"a passphrase must have at least {MIN_PASSPHRASE} characters (a few words are "
                             "easy to remember and hard to guess)")


class UnlockAttempts:
    """Wrong passphrases in a row, kept on disk so that restarting does not reset the delay.

    The first two wrong tries cost nothing more than the key derivation; from the third on, the next
    try must wait 2, 4, 8 … seconds, up to 5 minutes. A right passphrase clears the count.

    Args:
        root: The data directory (``unlock-attempts.json``; it holds only a count and a time).
        clock: Seconds since the epoch (tests turn it).
    """

    FILENAME = "unlock-attempts.json"
    MAX_DELAY_S = 300.0

    def __init__(self, root: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(root) / self.FILENAME
        self.clock = clock

    def _state(self) -> tuple[int, float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return int(data["failures"]), float(data["not_before"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0, 0.0

    @property
    def failures(self) -> int:
        return self._state()[0]

    def wait_s(self) -> float:
        """Seconds before the next try is allowed (0: now)."""
        return max(0.0, self._state()[1] - self.clock())

    def check(self) -> None:
        """Raises TooManyAttempts while the delay after wrong passphrases runs."""
        wait = self.wait_s()
        if wait > 0:
            raise TooManyAttempts(wait)

    def failed(self) -> None:
        failures = self._state()[0] + 1
        delay = 0.0 if failures < 3 else min(self.MAX_DELAY_S, 2.0 ** (failures - 2))
        if self.path.parent.exists():
            atomic_write_text(self.path, json.dumps({"failures": failures, "not_before": self.clock() + delay}) + "\n")

    def succeeded(self) -> None:
        self.path.unlink(missing_ok=True)


def seal_key(key: bytes, passphrase: str, *, aad: bytes) -> dict[str, Any]:
    """``key`` wrapped by a key derived from ``passphrase`` (with :data:`KDF`), as JSON-ready fields."""
    salt = os.urandom(16)
    wrapped = Cipher(_derive(passphrase, salt, KDF)).encrypt(key, aad=aad)
    return {**KDF, "salt": _b64(salt), "wrapped": _b64(wrapped)}


def open_sealed_key(sealed: dict[str, Any], passphrase: str, *, aad: bytes) -> bytes | None:
    """The key from :func:`seal_key`, or None when ``passphrase`` is not the one it was sealed with."""
    try:
        kek = Cipher(_derive(passphrase, _unb64(str(sealed["salt"])), sealed))
        return kek.decrypt(_unb64(str(sealed["wrapped"])), aad=aad)
    except DataLocked:
        return None
    except (KeyError, ValueError, TypeError) as exc:
        raise DataLocked(f"the wrapped key is damaged ({exc})") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _derive(passphrase: str, salt: bytes, params: dict[str, Any]) -> bytes:
    """The key-encryption key from a passphrase, with the parameters stored beside the wrapped key."""
    kdf = str(params.get("kdf", "scrypt"))
    secret = passphrase.encode("utf-8")
    if kdf == "argon2id":
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        return Argon2id(salt=salt, length=KEY_BYTES, iterations=int(params["iterations"]),
                        lanes=int(params["lanes"]), memory_cost=int(params["memory_cost"])).derive(secret)
    if kdf == "scrypt":
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        return Scrypt(salt=salt, length=KEY_BYTES, n=int(params["n"]), r=int(params["r"]),
                      p=int(params["p"])).derive(secret)
    raise DataLocked(f"unknown key derivation {kdf!r}: this data folder was made by a newer Sanctum")


def _locked_entry(stored: str) -> dict[str, Any] | None:
    """The sealed key of a keyring entry that holds the lock-wrapped key; None for a plain key."""
    if not stored.startswith("{"):
        return None
    try:
        entry = json.loads(stored)
    except ValueError as exc:
        raise DataLocked(f"Sanctum's keyring entry is damaged ({exc})") from exc
    if not isinstance(entry, dict) or _LOCKED not in entry:
        raise DataLocked("Sanctum's keyring entry is not one Sanctum wrote")
    return entry


def _lock_mac(key: bytes, idle_minutes: int, sealed: dict[str, Any]) -> str:
    """Authenticates the lock's settings (an edited idle time is noticed)."""
    body = json.dumps({"idle_minutes": idle_minutes, "salt": sealed.get("salt")}, sort_keys=True)
    return Cipher(key).keyed_hash(b"app-lock-settings:" + body.encode("ascii")).hex()


def keyring_usable() -> bool:
    """Whether a real keyring backend is there (not the 'fail' backend of a bare Linux box)."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return False
        return float(getattr(backend, "priority", 0)) > 0
    except Exception:  # noqa: BLE001 - any failure of the keyring library means: no usable keyring
        return False


class KeyManager:
    """Finds (or creates) the data key of one data directory.

    Args:
        data_dir: The data directory.
        passphrase: Asks for a passphrase when there is no keyring; None means nobody can be asked.
        mode: "auto" (keyring when usable, else passphrase), "keyring" or "passphrase", for a new key.
    """

    def __init__(self, data_dir: Path, *, passphrase: PassphraseProvider | None = None, mode: str = "auto") -> None:
        self.data_dir = data_dir
        self.info_path = data_dir / KEYINFO
        self._ask = passphrase
        self._mode = mode
        self.attempts = UnlockAttempts(data_dir)

    def info(self) -> dict[str, Any] | None:
        if not self.info_path.exists():
            return None
        try:
            return dict(json.loads(self.info_path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise DataLocked(f"{self.info_path} is damaged ({exc}); the encrypted data cannot be opened") from exc

    def load(self, *, lock_passphrase: str | None = None) -> bytes:
        """Return the data key, creating it on first use.

        Args:
            lock_passphrase: The app-lock passphrase, when the lock is on and it was typed already
                (the window's lock screen); otherwise it is asked for like a passphrase.

        Raises:
            WrongPassphrase: The passphrase does not open the key (counted by :attr:`attempts`).
            TooManyAttempts: Wrong passphrases in a row: this try must wait.
        """
        info = self.info()
        if info is None:
            return self._create()
        if info.get("mode") == "keyring":
            return self._from_keyring(info, lock_passphrase)
        if info.get("mode") == "passphrase":
            return self._from_passphrase(info, lock_passphrase)
        raise DataLocked(f"{self.info_path}: unknown key mode {info.get('mode')!r}")

    # -- creating ---------------------------------------------------------------------------

    def _create(self) -> bytes:
        key = os.urandom(KEY_BYTES)
        mode = self._mode
        if mode == "auto":
            mode = "keyring" if keyring_usable() else "passphrase"
        if mode == "keyring":
            import keyring
            from keyring.errors import KeyringError

            account = f"data-key-{uuid.uuid4()}"
            try:
                keyring.set_password(SERVICE, account, _b64(key))
                if keyring.get_password(SERVICE, account) != _b64(key):
                    raise KeyringError("the key read back differs from the key written")
            except KeyringError as exc:
                if self._mode == "keyring":
                    raise DataLocked(f"the system keyring refused to store Sanctum's key: {exc}") from exc
                return self._create_with_passphrase(key)
            check = Cipher(key).encrypt(_CHECK)
            self._write({"version": 1, "mode": "keyring", "service": SERVICE, "account": account, "check": _b64(check)})
            return key
        return self._create_with_passphrase(key)

    def _create_with_passphrase(self, key: bytes) -> bytes:
        passphrase = self._passphrase(
            "No system keyring is available. Choose a passphrase to protect your Sanctum data", new=True
        )
        check_new_passphrase(passphrase)
        self._write({"version": 1, "mode": "passphrase", **seal_key(key, passphrase, aad=b"data-key")})
        return key

    def _write(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.info_path, json.dumps(info, indent=2) + "\n")

    # -- opening ----------------------------------------------------------------------------

    def _keyring_entry(self, info: dict[str, Any]) -> str:
        import keyring
        from keyring.errors import KeyringError

        account = str(info.get("account"))
        try:
            stored = keyring.get_password(str(info.get("service", SERVICE)), account)
        except KeyringError as exc:
            raise DataLocked(f"the system keyring could not be opened ({exc}); unlock it and try again") from exc
        if not stored:
            raise DataLocked(
                "the key for this Sanctum data folder is not in this computer's keyring "
                f"(entry '{account}'). If the folder was copied from another computer, it cannot be "
                "opened without that computer's key."
            )
        return stored

    def _from_keyring(self, info: dict[str, Any], lock_passphrase: str | None) -> bytes:
        stored = self._keyring_entry(info)
        sealed = _locked_entry(stored)
        if sealed is None:
            key = _unb64(stored)
        else:
            self.attempts.check()
            passphrase = lock_passphrase or self._passphrase(
                "Sanctum's app lock is on. Enter the lock passphrase", new=False, lock=True)
            opened = open_sealed_key(sealed, passphrase, aad=LOCK_AAD)
            if opened is None:
                self.attempts.failed()
                raise WrongPassphrase("wrong lock passphrase: the Sanctum data stays locked")
            self.attempts.succeeded()
            key = opened
        Cipher(key).decrypt(_unb64(str(info["check"])))  # raises DataLocked when it is another key
        return key

    def _from_passphrase(self, info: dict[str, Any], lock_passphrase: str | None) -> bytes:
        """The data passphrase opens the key; with the app lock on, so does the lock passphrase."""
        self.attempts.check()
        lock = info.get("lock") if isinstance(info.get("lock"), dict) else None
        passphrase = lock_passphrase or self._passphrase(
            "Enter the passphrase that protects your Sanctum data" + (" (or the app lock's)" if lock else ""),
            new=False)
        key = open_sealed_key(info, passphrase, aad=b"data-key")
        if key is not None and info.get("kdf", "scrypt") != KDF["kdf"]:  # older, cheaper parameters: upgrade
            self._write({**info, **seal_key(key, passphrase, aad=b"data-key")})
        if key is None and lock is not None and "wrapped" in lock:
            key = open_sealed_key(lock, passphrase, aad=LOCK_AAD)
        if key is None:
            self.attempts.failed()
            raise WrongPassphrase("wrong passphrase: the Sanctum data could not be unlocked")
        self.attempts.succeeded()
        return key

    def _passphrase(self, prompt: str, *, new: bool, lock: bool = False) -> str:
        value = self._ask(prompt, new) if self._ask else None
        if not value:
            if lock:
                raise PassphraseRequired(
                    "Sanctum's app lock is on, and its passphrase was not given: run Sanctum in a terminal "
                    "to type it, or set SANCTUM_PASSPHRASE")
            raise PassphraseRequired(
                "no system keyring is available, so Sanctum's data is protected by a passphrase, and "
                "none was given: run Sanctum in a terminal to type it, or set SANCTUM_PASSPHRASE"
            )
        return value

    # -- the app lock ---------------------------------------------------------------------------

    def lock_sealed(self) -> dict[str, Any] | None:
        """The data key wrapped by the lock passphrase, or None when the app lock is off."""
        info = self.info()
        if info is None:
            return None
        if info.get("mode") == "keyring":
            try:
                return _locked_entry(self._keyring_entry(info))
            except DataLocked:
                return None
        lock = info.get("lock")
        return dict(lock) if isinstance(lock, dict) and "wrapped" in lock else None

    def lock_idle_minutes(self, key: bytes | None) -> int | None:
        """The lock's idle time; None when the lock is off. Settings that fail their MAC (or are
        missing while the key is lock-wrapped) give :data:`LOCK_IDLE_IF_ALTERED`; with no key to
        check them yet, the stored value is used until the data is opened."""
        sealed = self.lock_sealed()
        if sealed is None:
            return None
        lock = (self.info() or {}).get("lock")
        if not isinstance(lock, dict) or "idle_minutes" not in lock:
            return LOCK_IDLE_IF_ALTERED
        try:
            minutes = int(lock["idle_minutes"])
        except (TypeError, ValueError):
            return LOCK_IDLE_IF_ALTERED
        if key is not None and not hmac.compare_digest(str(lock.get("mac", "")), _lock_mac(key, minutes, sealed)):
            return LOCK_IDLE_IF_ALTERED
        return max(1, minutes)

    def set_lock(self, key: bytes, passphrase: str, *, idle_minutes: int) -> None:
        """Wrap the data key by the lock passphrase (the keyring keeps only that wrapped key)."""
        check_new_passphrase(passphrase)
        info = self.info()
        if info is None:
            raise DataLocked("the data key does not exist yet")
        if info.get("mode") == "keyring":
            Cipher(key).decrypt(_unb64(str(info["check"])))  # never wrap another key
        sealed = seal_key(key, passphrase, aad=LOCK_AAD)
        mac = _lock_mac(key, int(idle_minutes), sealed)
        if info.get("mode") == "keyring":
            self._set_keyring(info, json.dumps({_LOCKED: 1, **sealed}))
            info["lock"] = {"idle_minutes": int(idle_minutes), "salt": sealed["salt"], "mac": mac}
        else:
            info["lock"] = {**sealed, "idle_minutes": int(idle_minutes), "mac": mac}
        self._write(info)

    def clear_lock(self, key: bytes) -> None:
        """Turn the lock off: the keyring holds the data key itself again."""
        info = self.info()
        if info is None:
            return
        if info.get("mode") == "keyring":
            Cipher(key).decrypt(_unb64(str(info["check"])))  # never put another key in the keyring
            self._set_keyring(info, _b64(key))
        info.pop("lock", None)
        self._write(info)

    def _set_keyring(self, info: dict[str, Any], value: str) -> None:
        import keyring
        from keyring.errors import KeyringError

        service, account = str(info.get("service", SERVICE)), str(info.get("account"))
        try:
            keyring.set_password(service, account, value)
            if keyring.get_password(service, account) != value:
                raise KeyringError("the entry read back differs from the one written")
        except KeyringError as exc:
            raise DataLocked(f"the system keyring refused Sanctum's key: {exc}") from exc

    def forget(self) -> None:
        """Delete the key from the keyring and the key info (the data becomes unreadable)."""
        info = self.info()
        if info and info.get("mode") == "keyring":
            import keyring
            from keyring.errors import KeyringError, PasswordDeleteError

            with contextlib.suppress(PasswordDeleteError, KeyringError):
                keyring.delete_password(str(info.get("service", SERVICE)), str(info.get("account")))
        self.info_path.unlink(missing_ok=True)
