"""The app lock really locks: with it on, the data key is kept only wrapped by the lock passphrase
(in the real keyring), so neither the window nor the `sanctum` command opens the data without it,
deleting or editing files does not open it, wrong passphrases wait longer and longer across
restarts, and older data folders keep opening (and are upgraded on the next unlock).

On today's main, deleting applock.json while the window was locked let any passphrase in, and the
command line ignored the lock altogether.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import keyring
import pytest

from app.core.crypto import DataLocked
from app.core.engine import Engine
from app.core.privacy.keys import (
    KDF,
    SERVICE,
    KeyManager,
    PassphraseRequired,
    TooManyAttempts,
    UnlockAttempts,
    WeakPassphrase,
    WrongPassphrase,
)
from app.core.privacy.lock import AppLock
from tests.test_privacy_keys import NO_KEYRING, _no_tty_env, _run

LOCK = "night shift lock"


def _locked_home(home: Path) -> bytes:
    """A data folder with some data and the app lock on; returns its data key."""
    engine = Engine(home)
    engine.audit.record("note", text="made before the lock")
    key = engine.data_key()
    engine.app_lock.set(LOCK, idle_minutes=5)
    engine.close()
    return key


def _keyring_entry(home: Path) -> str:
    account = json.loads((home / "keyinfo.json").read_text())["account"]
    return str(keyring.get_password(SERVICE, account))


def test_with_the_lock_on_the_keyring_holds_only_the_wrapped_key(home: Path) -> None:
    key = _locked_home(home)
    entry = _keyring_entry(home)
    assert base64.b64encode(key).decode() not in entry and "wrapped" in entry
    for name in os.listdir(home):
        if (home / name).is_file():
            assert key not in (home / name).read_bytes() and base64.b64encode(key) not in (home / name).read_bytes()

    with pytest.raises(PassphraseRequired, match="app lock is on"):
        _ = Engine(home, passphrase=lambda prompt, new: None).cipher
    with pytest.raises(WrongPassphrase, match="wrong lock passphrase"):
        _ = Engine(home, passphrase=lambda prompt, new: "not the lock passphrase").cipher
    # Deleting what could be deleted on disk does not open it: the key is in the keyring, wrapped.
    info = json.loads((home / "keyinfo.json").read_text())
    info.pop("lock")
    (home / "keyinfo.json").write_text(json.dumps(info))
    (home / "applock.json").unlink(missing_ok=True)
    with pytest.raises(WrongPassphrase):
        _ = Engine(home, passphrase=lambda prompt, new: "anything at all").cipher
    engine = Engine(home, passphrase=lambda prompt, new: LOCK)
    assert [r.details.get("text") for r in engine.audit.records()][-1] == "made before the lock"
    assert engine.app_lock.enabled and engine.app_lock.idle_minutes == 1  # settings gone: strictest
    engine.close()


def test_the_lock_settings_are_authenticated(home: Path) -> None:
    key = _locked_home(home)
    keys = KeyManager(home)
    assert keys.lock_idle_minutes(key) == 5
    info = json.loads((home / "keyinfo.json").read_text())
    info["lock"]["idle_minutes"] = 240  # a colleague wants the screen to stay open
    (home / "keyinfo.json").write_text(json.dumps(info))
    assert keys.lock_idle_minutes(key) == 1


def test_the_command_line_needs_the_lock_passphrase(home: Path) -> None:
    _locked_home(home)
    proc = _run("docs", env=_no_tty_env())
    assert proc.returncode == 1 and "app lock is on" in proc.stderr and "SANCTUM_PASSPHRASE" in proc.stderr
    proc = _run("docs", env=_no_tty_env(SANCTUM_PASSPHRASE="wrong passphrase"))
    assert proc.returncode == 1 and "wrong lock passphrase" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run("docs", env=_no_tty_env(SANCTUM_PASSPHRASE=LOCK))
    assert proc.returncode == 0, proc.stderr


def test_wrong_passphrases_wait_longer_and_longer_across_restarts(home: Path) -> None:
    _locked_home(home)
    now = [1_000_000.0]
    for _ in range(3):
        keys = KeyManager(home, passphrase=lambda prompt, new: "guess guess")
        keys.attempts.clock = lambda: now[0]
        with pytest.raises(WrongPassphrase):
            keys.load()
    restarted = KeyManager(home, passphrase=lambda prompt, new: LOCK)  # a new process: the count is on disk
    restarted.attempts.clock = lambda: now[0]
    assert restarted.attempts.failures == 3
    with pytest.raises(TooManyAttempts, match="wait 2 seconds"):
        restarted.load()  # even the right passphrase waits: nothing is tried
    now[0] += 2.5
    assert restarted.load()
    assert restarted.attempts.failures == 0  # the right one clears the count
    delays = []
    attempts = UnlockAttempts(home, clock=lambda: now[0])
    for _ in range(12):
        attempts.failed()
        delays.append(round(attempts.wait_s()))
    assert delays == [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_new_passphrases_need_8_characters_and_are_stretched_with_argon2id(tmp_path: Path, home: Path) -> None:
    with pytest.raises(WeakPassphrase, match="at least 8 characters"):
        KeyManager(tmp_path, passphrase=lambda prompt, new: "short", mode="passphrase").load()
    assert not (tmp_path / "keyinfo.json").exists()
    proc = _run("config", "set", "top_k", "6", env=_no_tty_env(SANCTUM_PASSPHRASE="1234567", **NO_KEYRING))
    assert proc.returncode == 1 and "at least 8 characters" in proc.stderr
    key = KeyManager(tmp_path, passphrase=lambda prompt, new: "long enough", mode="passphrase").load()
    info = json.loads((tmp_path / "keyinfo.json").read_text())
    assert info["kdf"] == "argon2id" and info["memory_cost"] >= 64 * 1024 and info["iterations"] >= 3
    assert {k: info[k] for k in KDF} == KDF
    assert KeyManager(tmp_path, passphrase=lambda prompt, new: "long enough").load() == key
    engine = Engine(home)
    engine.audit.record("note")
    with pytest.raises(Exception, match="at least 8"):
        engine.app_lock.set("1234567")


def test_passphrase_mode_with_the_lock_opens_with_either_passphrase(tmp_path: Path) -> None:
    key = KeyManager(tmp_path, passphrase=lambda prompt, new: "data passphrase", mode="passphrase").load()
    KeyManager(tmp_path).set_lock(key, LOCK, idle_minutes=3)
    assert KeyManager(tmp_path, passphrase=lambda prompt, new: LOCK).load() == key
    assert KeyManager(tmp_path, passphrase=lambda prompt, new: "data passphrase").load() == key
    with pytest.raises(WrongPassphrase):
        KeyManager(tmp_path, passphrase=lambda prompt, new: "neither of them").load()


def test_old_folders_open_and_move_to_the_new_lock_on_the_next_unlock(home: Path, tmp_path: Path) -> None:
    # A passphrase-mode key wrapped with the old scrypt parameters.
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    from app.core.crypto import Cipher

    data_key, salt = os.urandom(32), os.urandom(16)
    kek = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(b"old passphrase")
    old = {"version": 1, "mode": "passphrase", "kdf": "scrypt", "n": 2**15, "r": 8, "p": 1,
           "salt": base64.b64encode(salt).decode(), "wrapped": base64.b64encode(
               Cipher(kek).encrypt(data_key, aad=b"data-key")).decode()}
    (tmp_path / "keyinfo.json").write_text(json.dumps(old))
    assert KeyManager(tmp_path, passphrase=lambda prompt, new: "old passphrase").load() == data_key
    assert json.loads((tmp_path / "keyinfo.json").read_text())["kdf"] == "argon2id"  # upgraded
    assert KeyManager(tmp_path, passphrase=lambda prompt, new: "old passphrase").load() == data_key

    # An old app lock: applock.json (an scrypt hash) beside a plain key in the keyring.
    engine = Engine(home)
    engine.audit.record("note")
    lock_salt = os.urandom(16)
    digest = Scrypt(salt=lock_salt, length=32, n=2**15, r=8, p=1).derive(LOCK.encode())
    (home / "applock.json").write_text(json.dumps({
        "version": 1, "kdf": "scrypt", "n": 2**15, "r": 8, "p": 1, "salt": base64.b64encode(lock_salt).decode(),
        "hash": base64.b64encode(digest).decode(), "idle_minutes": 7}))
    lock = engine.app_lock
    assert lock.enabled and lock.idle_minutes == 7 and not lock.verify("not it")
    assert lock.verify(LOCK)
    assert not (home / "applock.json").exists() and "wrapped" in _keyring_entry(home)
    assert lock.enabled and lock.idle_minutes == 7
    engine.close()
    with pytest.raises(DataLocked):
        _ = Engine(home, passphrase=lambda prompt, new: "not it").cipher


def test_a_lock_screen_stays_locked_when_its_files_are_deleted(qtbot, home: Path, embedder,
                                                                chat) -> None:
    from tests.test_gui import close_window, make_engine, open_window

    window = open_window(qtbot, make_engine(home, embedder, chat))
    try:
        qtbot.waitUntil(lambda: window.engine.loaded_key() is not None, timeout=20_000)
        window.engine.app_lock.set(LOCK, idle_minutes=5)
        window.privacy.sig_lock_changed.emit()
        window.states.lock()
        assert window.stack.currentWidget() is window.lock_screen
        info = json.loads((home / "keyinfo.json").read_text())
        info.pop("lock")  # what a colleague can delete
        (home / "keyinfo.json").write_text(json.dumps(info))
        (home / "applock.json").unlink(missing_ok=True)
        screen = window.lock_screen
        qtbot.keyClicks(screen.field, "any passphrase at all")
        screen.unlock_button.click()
        qtbot.waitUntil(lambda: "Wrong passphrase" in screen.message.text(), timeout=20_000)
        assert window.stack.currentWidget() is screen and not window.chat.isVisible()
        screen.field.clear()
        qtbot.keyClicks(screen.field, LOCK)
        screen.unlock_button.click()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.splitter, timeout=20_000)
        assert AppLock(home).enabled  # still on: the keyring holds only the wrapped key
    finally:
        close_window(window)


def test_an_old_lock_is_checked_even_before_the_data_is_open(home: Path) -> None:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    first = Engine(home)
    first.audit.record("note")
    first.close()
    salt = os.urandom(16)
    digest = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(LOCK.encode())
    (home / "applock.json").write_text(json.dumps({
        "version": 1, "kdf": "scrypt", "n": 2**15, "r": 8, "p": 1, "salt": base64.b64encode(salt).decode(),
        "hash": base64.b64encode(digest).decode(), "idle_minutes": 7}))
    engine = Engine(home)  # the keyring still holds the plain key: the data opens without the lock
    assert not engine.needs_unlock() and engine.app_lock.enabled
    assert not engine.unlock("typed before the data was open")
    assert engine.unlock(LOCK) and "wrapped" in _keyring_entry(home)  # and moved to the new lock
    engine.close()
