"""The keys of a shared library, and how they are handed to its members.

A shared library (see :mod:`app.core.team.store`) has two random secrets, kept together as
:class:`LibraryKeys`:

- the *content key* ``K`` wraps each document's key and seals the document records; it is replaced
  by a new one (a re-key) whenever a member is removed, so a former member's copy stops working;
- the *id key* names documents: a document's id (and its own key) is a keyed hash of its content,
  so two members adding the same file write the same records instead of two copies. It is kept
  across re-keys (ids must stay stable), so a former member can still tell whether a file *they
  hold* is in the library (see the threat model in the README), but cannot read anything else.

Members get the keys in one of two wrappings, stored in the library's members collection:

- an *invite*: the keys sealed under a key derived with scrypt from a random invite secret that
  the person who shares the library hands over (a one-line invite); it is used once;
- a *member record*: the keys sealed to the member's own X25519 public key (ECDH with a fresh
  ephemeral key, HKDF, AES-GCM). The private key stays in the member's OS keyring.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.crypto import KEY_BYTES, Cipher, DataLocked

_INVITE_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


@dataclass(frozen=True)
class LibraryKeys:
    """The secrets of one shared library at one epoch (the epoch grows with each re-key)."""

    content: bytes
    ids: bytes
    epoch: int

    @classmethod
    def new(cls) -> LibraryKeys:
        return cls(os.urandom(KEY_BYTES), os.urandom(KEY_BYTES), 1)

    def rekeyed(self) -> LibraryKeys:
        """A new content key, the same id key, the next epoch."""
        return LibraryKeys(os.urandom(KEY_BYTES), self.ids, self.epoch + 1)

    @property
    def cipher(self) -> Cipher:
        """Seals document records and wraps document keys."""
        return Cipher(self.content)

    @property
    def check(self) -> str:
        """A value that says which content key is current, without revealing it."""
        return Cipher(self.content).keyed_hash(b"library-key-check").hex()[:32]

    def doc_id(self, content_sha256: str, member: str | None = None) -> str:
        """The id of a document with this content (and, inside a container, this member name)."""
        return Cipher(self.ids).keyed_hash(_content_label(b"doc-id", content_sha256, member)).hex()[:32]

    def doc_key(self, content_sha256: str, member: str | None = None) -> bytes:
        """The key of a document with this content: the same on every member's computer, so two
        members ingesting the same file at once write chunks anyone can read with the one record."""
        return Cipher(self.ids).keyed_hash(_content_label(b"doc-key", content_sha256, member))

    def dumps(self) -> str:
        return json.dumps({"k": b64(self.content), "i": b64(self.ids), "e": self.epoch})

    @classmethod
    def loads(cls, text: str) -> LibraryKeys:
        try:
            data = json.loads(text)
            return cls(unb64(data["k"]), unb64(data["i"]), int(data["e"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataLocked("the shared library's key is damaged") from exc


def _content_label(purpose: bytes, content_sha256: str, member: str | None) -> bytes:
    label = purpose + b":" + content_sha256.encode("ascii")
    return label + (b"\x00" + member.encode("utf-8") if member else b"")


# -- invites (a secret handed over) ---------------------------------------------------------------


def invite_seal(keys: LibraryKeys, secret: str, salt: bytes, *, aad: bytes) -> str:
    """The keys sealed under a key scrypt derives from an invite secret."""
    return b64(Cipher(_scrypt(secret, salt)).encrypt(keys.dumps().encode(), aad=aad))


def invite_open(blob: str, secret: str, salt: bytes, *, aad: bytes) -> LibraryKeys:
    try:
        return LibraryKeys.loads(Cipher(_scrypt(secret, salt)).decrypt(unb64(blob), aad=aad).decode())
    except DataLocked as exc:
        raise DataLocked("this invite's secret does not open the library: check that it was copied whole") from exc


def _scrypt(secret: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    p = _INVITE_SCRYPT
    return Scrypt(salt=salt, length=KEY_BYTES, n=p["n"], r=p["r"], p=p["p"]).derive(secret.encode("utf-8"))


# -- member keys (X25519) -------------------------------------------------------------------------


def new_member_key() -> tuple[str, str]:
    """A new key pair for a member, as (private, public) in base64."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return b64(raw), public_of(b64(raw))


def public_of(private_b64: str) -> str:
    public = X25519PrivateKey.from_private_bytes(unb64(private_b64)).public_key()
    return b64(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _wrap_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
               info=b"sanctum/library-keys" + ephemeral + recipient).derive(shared)
    return AESGCM(key)


def seal_to(keys: LibraryKeys, public_b64: str, *, aad: bytes) -> str:
    """The keys sealed to a member's public key (only their private key opens them)."""
    recipient = unb64(public_b64)
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    nonce = os.urandom(12)
    sealed = _wrap_key(shared, eph_pub, recipient).encrypt(nonce, keys.dumps().encode(), aad)
    return b64(eph_pub + nonce + sealed)


def open_sealed(blob: str, private_b64: str, *, aad: bytes) -> LibraryKeys:
    from cryptography.exceptions import InvalidTag

    raw = unb64(blob)
    eph_pub, nonce, sealed = raw[:32], raw[32:44], raw[44:]
    private = X25519PrivateKey.from_private_bytes(unb64(private_b64))
    recipient = unb64(public_of(private_b64))
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        return LibraryKeys.loads(_wrap_key(shared, eph_pub, recipient).decrypt(nonce, sealed, aad).decode())
    except (InvalidTag, ValueError) as exc:
        raise DataLocked("the library's key was not sealed to this member's key") from exc
