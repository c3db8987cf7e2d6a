"""The key in a real Secret Service keyring, the passphrase path, a folder moved without its key,
wiping everything, and the app lock."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from app.core.crypto import DataLocked
from app.core.engine import Engine
from app.core.privacy.keys import SERVICE, KeyManager, keyring_usable
from app.core.privacy.lock import AppLock, AppLockError
from tests import docmaker
from tests.conftest import run_cli

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def _no_tty_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SANCTUM_PASSPHRASE"}
    return {**env, **extra}


def _run(*args: str, env: dict[str, str], prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("sanctum")
    return subprocess.run([*prefix, str(exe), *args], capture_output=True, text=True, timeout=600, env=env,
                          stdin=subprocess.DEVNULL)


def test_the_key_lives_in_the_real_keyring_and_nowhere_in_the_folder(tmp_path: Path) -> None:
    assert keyring_usable()
    assert type(keyring.get_keyring()).__module__ == "keyring.backends.SecretService"
    manager = KeyManager(tmp_path, mode="keyring")
    key = manager.load()
    info = json.loads((tmp_path / "keyinfo.json").read_text())
    assert info["mode"] == "keyring"
    assert keyring.get_password(SERVICE, info["account"]) == base64.b64encode(key).decode()
    for needle in (key, key.hex().encode(), base64.b64encode(key)):
        assert all(needle not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert KeyManager(tmp_path).load() == key  # found again through keyinfo.json
    manager.forget()
    assert keyring.get_password(SERVICE, info["account"]) is None
    assert not (tmp_path / "keyinfo.json").exists()


def test_an_engine_on_a_desktop_keeps_its_key_in_the_keyring(home: Path) -> None:
    engine = Engine(home)  # nobody to ask for a passphrase: the keyring must be used
    engine.audit.record("test.event")
    assert json.loads((home / "keyinfo.json").read_text())["mode"] == "keyring"
    engine.close()


def test_cli_passphrase_path_without_a_keyring(home: Path, tmp_path: Path) -> None:
    doc = docmaker.make_text(tmp_path / "rota.txt", "The on-call pharmacist on Sunday is Amara Okafor.")
    proc = _run("ingest", str(doc), env=_no_tty_env(**NO_KEYRING, SANCTUM_PASSPHRASE="blue heron 42"))
    assert proc.returncode == 0, proc.stderr
    info = json.loads((home / "keyinfo.json").read_text())
    assert info["mode"] == "passphrase" and info["kdf"] == "scrypt"
    proc = _run("search", "on-call pharmacist", "--json",
                env=_no_tty_env(**NO_KEYRING, SANCTUM_PASSPHRASE="blue heron 42"))
    assert proc.returncode == 0 and "Amara Okafor" in proc.stdout, proc.stderr
    # Wrong passphrase, and no passphrase with no terminal: a clear message, exit 1, never a hang.
    proc = _run("docs", env=_no_tty_env(**NO_KEYRING, SANCTUM_PASSPHRASE="wrong"))
    assert proc.returncode == 1 and "wrong passphrase" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run("docs", env=_no_tty_env(**NO_KEYRING))
    assert proc.returncode == 1 and "SANCTUM_PASSPHRASE" in proc.stderr and "Traceback" not in proc.stderr


def test_a_folder_copied_to_another_computer_cannot_be_read_there(home: Path, tmp_path: Path) -> None:
    if not shutil.which("dbus-run-session"):
        pytest.fail("dbus-run-session is missing: run the tests with `installers/setup.sh test`")
    doc = docmaker.make_text(tmp_path / "ward.txt", "Bed 7: Mrs. Ineke Bakker, fall risk, needs a hoist.")
    assert run_cli("ingest", str(doc)).returncode == 0
    copy = tmp_path / "usb-stick" / "Sanctum"
    shutil.copytree(home, copy)
    # "Another computer": its own session bus and its own (empty) keyring.
    other = tmp_path / "other-computer"
    other.mkdir()
    script = ('printf pass | XDG_DATA_HOME="$OTHER" gnome-keyring-daemon --unlock --components=secrets >/dev/null; '
              'exec "$@"')
    env = _no_tty_env(SANCTUM_HOME=str(copy), OTHER=str(other))
    for command in (["docs"], ["search", "hoist"], ["ask", "Who needs a hoist?"]):
        proc = _run(*command, env=env, prefix=("dbus-run-session", "--", "sh", "-c", script, "sh"))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "not in this computer's keyring" in proc.stderr and "Traceback" not in proc.stderr
        assert "Bakker" not in proc.stdout
    # Without its key the copy's bytes give nothing away either.
    assert all(b"Bakker" not in p.read_bytes() for p in copy.rglob("*") if p.is_file())
    assert "Bakker" in run_cli("search", "hoist").stdout  # the original computer still reads it


def test_wipe_asks_first_then_removes_everything_and_the_key(home: Path, tmp_path: Path) -> None:
    assert run_cli("config", "set", "top_k", "7").returncode == 0
    account = json.loads((home / "keyinfo.json").read_text())["account"]
    assert keyring.get_password(SERVICE, account)
    proc = _run("wipe", env=_no_tty_env())
    assert proc.returncode == 2 and "--yes" in proc.stderr
    assert (home / "audit.log").exists()  # nothing deleted without confirmation
    proc = _run("wipe", "--yes", env=_no_tty_env())
    assert proc.returncode == 0, proc.stderr
    assert list(home.iterdir()) == []
    assert keyring.get_password(SERVICE, account) is None


def test_app_lock_set_verify_change_clear(tmp_path: Path) -> None:
    lock = AppLock(tmp_path)
    assert not lock.enabled and lock.verify("anything") and lock.idle_minutes is None
    with pytest.raises(AppLockError, match="at least"):
        lock.set("abc")
    lock.set("ward 7 night", idle_minutes=5)
    stored = (tmp_path / "applock.json").read_text()
    assert "ward 7 night" not in stored and json.loads(stored)["kdf"] == "scrypt"
    assert lock.enabled and lock.idle_minutes == 5
    assert lock.verify("ward 7 night") and not lock.verify("ward 7 nigh") and not lock.verify("")
    with pytest.raises(AppLockError, match="current lock passphrase"):
        lock.set("new one", current="wrong")
    lock.set("new one", current="ward 7 night", idle_minutes=2)
    assert lock.verify("new one") and not lock.verify("ward 7 night")
    with pytest.raises(AppLockError, match="wrong"):
        lock.clear("ward 7 night")
    lock.clear("new one")
    assert not lock.enabled


def test_passphrase_mode_engine_round_trip_and_wrong_passphrase(tmp_path: Path) -> None:
    KeyManager(tmp_path, passphrase=lambda p, n: "pass one", mode="passphrase").load()
    engine = Engine(tmp_path, passphrase=lambda p, n: "pass one")
    engine.audit.record("note", text="x")
    engine.close()
    with pytest.raises(DataLocked, match="wrong passphrase"):
        _ = Engine(tmp_path, passphrase=lambda p, n: "pass two").audit
