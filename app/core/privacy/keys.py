"""The data key: created on first run, kept in the OS keyring, never in the data directory.

``keyinfo.json`` in the data directory says how to find the key, and holds nothing secret:
- keyring mode: the keyring entry's name and a check value (a blob encrypted under the key);
- passphrase mode (no keyring on this machine): the scrypt salt and parameters and the data key
  wrapped (AES-GCM) by the passphrase-derived key. Without the passphrase the wrapped key is noise.

There is no silent plaintext fallback: with neither a keyring nor a passphrase, opening fails with
a message that says what to do.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.config import atomic_write_text
from app.core.crypto import KEY_BYTES, Cipher, DataLocked
from app.core.errors import PassphraseRequired as PassphraseRequired  # re-exported for the callers of keys

SERVICE = "Sanctum"
KEYINFO = "keyinfo.json"
_CHECK = b"sanctum key check v1"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}

#: Asks the user for a passphrase: (prompt, creating a new one?) -> passphrase, or None if it can't.
PassphraseProvider = Callable[[str, bool], "str | None"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _derive(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=KEY_BYTES, n=params["n"], r=params["r"], p=params["p"]).derive(
        passphrase.encode("utf-8")
    )


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

    def info(self) -> dict[str, Any] | None:
        if not self.info_path.exists():
            return None
        try:
            return dict(json.loads(self.info_path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise DataLocked(f"{self.info_path} is damaged ({exc}); the encrypted data cannot be opened") from exc

    def load(self) -> bytes:
        """Return the data key, creating it on first use."""
        info = self.info()
        if info is None:
            return self._create()
        if info.get("mode") == "keyring":
            return self._from_keyring(info)
        if info.get("mode") == "passphrase":
            return self._from_passphrase(info)
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
        salt = os.urandom(16)
        wrapped = Cipher(_derive(passphrase, salt, _SCRYPT)).encrypt(key, aad=b"data-key")
        self._write({"version": 1, "mode": "passphrase", "kdf": "scrypt", **_SCRYPT, "salt": _b64(salt),
                     "wrapped": _b64(wrapped)})
        return key

    def _write(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.info_path, json.dumps(info, indent=2) + "\n")

    # -- opening ----------------------------------------------------------------------------

    def _from_keyring(self, info: dict[str, Any]) -> bytes:
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
        key = _unb64(stored)
        Cipher(key).decrypt(_unb64(str(info["check"])))  # raises DataLocked when it is another key
        return key

    def _from_passphrase(self, info: dict[str, Any]) -> bytes:
        passphrase = self._passphrase("Enter the passphrase that protects your Sanctum data", new=False)
        params = {k: int(info[k]) for k in ("n", "r", "p")}
        kek = Cipher(_derive(passphrase, _unb64(str(info["salt"])), params))
        try:
            return kek.decrypt(_unb64(str(info["wrapped"])), aad=b"data-key")
        except DataLocked as exc:
            raise DataLocked("wrong passphrase: the Sanctum data could not be unlocked") from exc

    def _passphrase(self, prompt: str, *, new: bool) -> str:
        value = self._ask(prompt, new) if self._ask else None
        if not value:
            raise PassphraseRequired(
                "no system keyring is available, so Sanctum's data is protected by a passphrase, and "
                "none was given: run Sanctum in a terminal to type it, or set SANCTUM_PASSPHRASE"
            )
        return value

    def forget(self) -> None:
        """Delete the key from the keyring and the key info (the data becomes unreadable)."""
        info = self.info()
        if info and info.get("mode") == "keyring":
            import keyring
            from keyring.errors import KeyringError, PasswordDeleteError

            with contextlib.suppress(PasswordDeleteError, KeyringError):
                keyring.delete_password(str(info.get("service", SERVICE)), str(info.get("account")))
        self.info_path.unlink(missing_ok=True)
