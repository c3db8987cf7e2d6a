"""Authenticated encryption of what Sanctum keeps on disk.

One 256-bit data key per data directory (kept in the OS keyring, or wrapped by a passphrase:
see :mod:`app.core.privacy.keys`). From it HKDF derives separate subkeys: one for AES-256-GCM
encryption of text at rest, one for HMAC-SHA256 keyed hashes (index terms that must be
comparable without being readable). Every blob carries a version byte and a fresh 96-bit nonce;
tampering or a wrong key fails authentication and is reported as :class:`DataLocked`.
"""

from __future__ import annotations

import base64
import hmac
import os
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.errors import DataLocked as DataLocked  # re-exported for the callers of crypto

_VERSION = b"\x01"
_NONCE = 12
KEY_BYTES = 32


def _subkey(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"sanctum/" + purpose).derive(key)


class Cipher:
    """AES-256-GCM encryption and HMAC-SHA256 keyed hashing under one data key.

    Args:
        key: The 32-byte data key.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("the data key must be 32 bytes")
        self._aead = AESGCM(_subkey(key, b"aead"))
        self._mac_key = _subkey(key, b"mac")
        self.key_id = sha256(_subkey(key, b"id")).hexdigest()[:16]  # safe to show and log

    def encrypt(self, data: bytes, *, aad: bytes = b"") -> bytes:
        """Encrypt ``data``; ``aad`` (e.g. a record id) is authenticated but not stored."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, data, aad)

    def decrypt(self, blob: bytes, *, aad: bytes = b"") -> bytes:
        """Decrypt a blob from :meth:`encrypt`.

        Raises:
            DataLocked: Wrong key, altered data, or not a Sanctum blob.
        """
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
            raise DataLocked("this data is not in Sanctum's encrypted format (damaged or from another program)")
        try:
            return self._aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad)
        except InvalidTag as exc:
            raise DataLocked(
                "encrypted data could not be read: the key does not match it, or it was altered"
            ) from exc

    def encrypt_text(self, text: str, *, aad: bytes = b"") -> str:
        """Encrypt text to an ASCII string (for text columns, e.g. Chroma documents)."""
        return base64.b64encode(self.encrypt(text.encode("utf-8"), aad=aad)).decode("ascii")

    def decrypt_text(self, token: str, *, aad: bytes = b"") -> str:
        try:
            blob = base64.b64decode(token.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError) as exc:
            raise DataLocked("this text is not encrypted by Sanctum (damaged or written by another program)") from exc
        return self.decrypt(blob, aad=aad).decode("utf-8")

    def keyed_hash(self, data: bytes) -> bytes:
        """HMAC-SHA256 of ``data``: equal inputs give equal outputs; without the key it says nothing."""
        return hmac.new(self._mac_key, data, sha256).digest()
