"""Wipe deletes only what is Sanctum's: a mistaken SANCTUM_HOME never costs the user their files,
and only the keyring entry Sanctum created for the folder is deleted."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

import keyring
import pytest

from app.core.privacy.keys import KEYINFO, SERVICE, KeyManager
from app.core.privacy.wipe import WipeRefused, wipe_data
from tests import docmaker
from tests.conftest import run_cli


def test_a_mistaken_sanctum_home_full_of_the_users_files_is_refused_whole(tmp_path: Path) -> None:
    mistaken = tmp_path / "Documents"  # the user pointed SANCTUM_HOME at their documents folder
    mistaken.mkdir()
    docmaker.make_docx(mistaken / "Thesis final.docx", ["Chapter 1."])
    (mistaken / "photos").mkdir()
    (mistaken / "photos" / "ward party.jpg").write_bytes(b"\xff\xd8\xff picture")
    env = {"SANCTUM_HOME": str(mistaken)}
    assert run_cli("config", "set", "top_k", "7", env=env).returncode == 0  # Sanctum wrote its settings there
    assert run_cli("docs", env=env).returncode == 0  # and its key and database
    (mistaken / "store").mkdir(exist_ok=True)  # a folder of the user's that shares a name with ours
    (mistaken / "store" / "receipts.pdf").write_bytes(b"%PDF-1.4 receipts")
    info = json.loads((mistaken / KEYINFO).read_text())
    before = sorted(p.relative_to(mistaken).as_posix() for p in mistaken.rglob("*"))

    proc = run_cli("wipe", "--yes", env=env)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "nothing was deleted" in proc.stderr
    for name in ("Thesis final.docx", "photos/", "store/receipts.pdf"):
        assert name in proc.stderr, proc.stderr
    assert sorted(p.relative_to(mistaken).as_posix() for p in mistaken.rglob("*")) == before
    assert keyring.get_password(SERVICE, info["account"])  # the key too: the folder can still be opened


def test_the_listing_names_a_few_and_counts_the_rest(tmp_path: Path) -> None:
    for number in range(12):
        (tmp_path / f"letter-{number:02}.txt").write_text("Dear colleague")
    with pytest.raises(WipeRefused, match=r"letter-00\.txt, .*letter-04\.txt and 7 more"):
        wipe_data(tmp_path)
    assert len(list(tmp_path.iterdir())) == 12


def test_only_the_keyring_entry_sanctum_made_for_this_folder_is_deleted(tmp_path: Path) -> None:
    # Key info altered (or written by hand) to point at another program's secret: it must survive.
    home = tmp_path / "data"
    home.mkdir()
    KeyManager(home, mode="keyring").load()
    ours = json.loads((home / KEYINFO).read_text())
    keyring.set_password("MailClient", "imap-password", "hunter2")
    stranger = f"data-key-{uuid.uuid4()}"  # named like ours, but holding another folder's key
    keyring.set_password(SERVICE, stranger, base64.b64encode(os.urandom(32)).decode())
    try:
        for service, account in (("MailClient", "imap-password"), (SERVICE, stranger)):
            (home / KEYINFO).write_text(json.dumps({**ours, "service": service, "account": account}))
            wipe_data(home)
            assert keyring.get_password(service, account), f"{service}/{account} was deleted"
            (home / KEYINFO).write_text(json.dumps(ours))
        # The real entry, with its check value, is deleted.
        (home / "settings.json").write_text("{}")
        assert sorted(wipe_data(home)) == ["settings.json"]
        assert keyring.get_password(SERVICE, ours["account"]) is None
        assert list(home.iterdir()) == []
    finally:
        keyring.delete_password("MailClient", "imap-password")
        keyring.delete_password(SERVICE, stranger)


def test_a_folder_with_everything_sanctum_writes_is_wiped(tmp_path: Path) -> None:
    home = tmp_path / "data"
    home.mkdir()
    KeyManager(home, mode="keyring").load()
    for name in ("settings.json", "library.sqlite3", "library.sqlite3-wal", "library.sqlite3-shm",
                 "conversations.sqlite3", "keywords.bin", "keywords.binabc123.tmp", "audit.log", "audit.head",
                 "audit.lock", "applock.json", "window.ini"):
        (home / name).write_bytes(b"x")
    (home / "store" / str(uuid.uuid4())).mkdir(parents=True)
    (home / "store" / "chroma.sqlite3").write_bytes(b"x")
    (home / "models" / "onnx").mkdir(parents=True)
    (home / "models" / "speeds.json").write_text("{}")
    wipe_data(home)
    assert list(home.iterdir()) == []
