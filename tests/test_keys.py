"""The data key: never in the data folder in plaintext; a passphrase where no keyring exists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.crypto import Cipher, DataLocked
from app.core.privacy.keys import KeyManager, PassphraseRequired


def _typed(value: str | None):
    return lambda prompt, new: value


def test_cipher_round_trip_and_tamper_detection() -> None:
    cipher = Cipher(bytes(range(32)))
    blob = cipher.encrypt(b"Patient: Maria Gonzales, MRN 4471", aad=b"chunk-1")
    assert b"Maria" not in blob
    assert cipher.decrypt(blob, aad=b"chunk-1") == b"Patient: Maria Gonzales, MRN 4471"
    with pytest.raises(DataLocked):
        cipher.decrypt(blob, aad=b"chunk-2")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DataLocked, match="altered"):
        cipher.decrypt(tampered, aad=b"chunk-1")
    with pytest.raises(DataLocked):
        Cipher(bytes(32)).decrypt(blob, aad=b"chunk-1")
    assert cipher.decrypt_text(cipher.encrypt_text("café")) == "café"
    assert cipher.keyed_hash(b"insulin") == cipher.keyed_hash(b"insulin") != Cipher(bytes(32)).keyed_hash(b"insulin")


def test_passphrase_mode_wraps_the_key(tmp_path: Path) -> None:
    key = KeyManager(tmp_path, passphrase=_typed("correct horse"), mode="passphrase").load()
    info = (tmp_path / "keyinfo.json").read_bytes()
    assert key not in info and key.hex().encode() not in info
    assert KeyManager(tmp_path, passphrase=_typed("correct horse")).load() == key
    with pytest.raises(DataLocked, match="wrong passphrase"):
        KeyManager(tmp_path, passphrase=_typed("wrong horse")).load()


def test_no_keyring_and_nobody_to_ask_stops_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(PassphraseRequired, match="SANCTUM_PASSPHRASE"):
        KeyManager(tmp_path, passphrase=_typed(None), mode="passphrase").load()
    assert not (tmp_path / "keyinfo.json").exists()


def test_folder_copied_without_its_keyring_entry_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "a"
    home.mkdir()
    (home / "keyinfo.json").write_text(
        '{"version": 1, "mode": "keyring", "service": "Sanctum", "account": "data-key-missing", "check": "AAAA"}')
    copy = tmp_path / "copied"
    shutil.copytree(home, copy)
    with pytest.raises(DataLocked, match="not in this computer's keyring|keyring could not be opened"):
        KeyManager(copy).load()
