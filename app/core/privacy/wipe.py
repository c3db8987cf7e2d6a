"""Wipe all data: the key first (so nothing left behind can ever be read), then every file Sanctum made.

Destroying the data key is what makes the wipe final: on SSDs and copy-on-write file systems an
unlinked file's blocks may survive, but they hold only ciphertext whose key no longer exists. The
key is removed from the OS keyring (or, in passphrase mode, the wrapped key in ``keyinfo.json`` is
deleted). The wipe needs no key, so it also works on a folder that can no longer be unlocked.

A wipe deletes only what Sanctum knows it made: a mistaken ``SANCTUM_HOME`` (a home folder, a
documents folder) must never cost the user their own files. A folder that holds anything else is
refused whole, naming a few of the strangers, before anything is deleted. Only the keyring entry
Sanctum created for this folder is deleted: the one named like Sanctum's, under Sanctum's service,
whose secret opens this folder's check value.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
from pathlib import Path

from app.core.crypto import Cipher, DataLocked
from app.core.errors import SanctumError
from app.core.privacy.keys import KEYINFO, SERVICE

#: Files Sanctum writes at the top of its data folder (add a name here when a new one is written).
KNOWN_FILES = frozenset({
    "settings.json", "library.sqlite3", "conversations.sqlite3", "keywords.bin", KEYINFO, "audit.log",
    "audit.head", "audit.lock", "applock.json", "window.ini", "window.ini.lock",
    "models.json", "unlock-attempts.json",  # the model library; wrong-passphrase back-off
})
#: Folders Sanctum makes there, and what may be inside each (the store's are Chroma's own).
KNOWN_FOLDERS = frozenset({"store", "models", "shared"})  # shared: the caches of shared libraries
_SIDECARS = ("-wal", "-shm", "-journal")  # SQLite's files beside a database
_TEMPORARY = (".tmp", ".partial")  # an interrupted atomic write or download
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ACCOUNT = re.compile(r"^data-key-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MODEL_SUFFIXES = (".json", ".onnx", ".gguf", *_TEMPORARY)
_SHOWN = 5


class WipeRefused(SanctumError):
    """The folder holds files Sanctum did not make: nothing was deleted."""


def _known_file(name: str) -> bool:
    if name in KNOWN_FILES:
        return True
    base = next((known for known in KNOWN_FILES if name.startswith(known)), None)
    return base is not None and (name[len(base):] in _SIDECARS or name.endswith(_TEMPORARY))


def unknown_entries(root: Path) -> list[str]:
    """What in ``root`` Sanctum did not make (paths relative to it); empty for a Sanctum data folder."""
    strangers = []
    for child in sorted(Path(root).iterdir()):
        name = child.name
        if child.is_symlink():
            strangers.append(name)
        elif child.is_dir():
            if name not in KNOWN_FOLDERS:
                strangers.append(f"{name}/")
            else:
                strangers.extend(f"{name}/{inner}" for inner in _unknown_inside(child))
        elif not _known_file(name):
            strangers.append(name)
    return strangers


def _unknown_inside(folder: Path) -> list[str]:
    strangers = []
    for child in sorted(folder.iterdir()):
        name = child.name
        if child.is_symlink():
            strangers.append(name)
        elif folder.name == "store":
            if not ((child.is_dir() and _UUID.match(name)) or name == "compact.pending" or
                    (child.is_file() and (name == "chroma.sqlite3" or name[len("chroma.sqlite3"):] in _SIDECARS
                                          and name.startswith("chroma.sqlite3")))):
                strangers.append(name + ("/" if child.is_dir() else ""))
        elif folder.name == "shared":
            continue  # libraries.json and one cache folder per shared library, all Sanctum's
        elif not ((child.is_dir() and name in ("onnx", "library")) or
                  (child.is_file() and name.endswith(_MODEL_SUFFIXES))):
            strangers.append(name + ("/" if child.is_dir() else ""))
    return strangers


def check_wipeable(root: Path) -> None:
    """Raise :class:`WipeRefused` when ``root`` holds anything Sanctum did not make.

    Raises:
        WipeRefused: With the folder, a few of the unknown names and what to do.
    """
    root = Path(root)
    if not root.exists():
        return
    strangers = unknown_entries(root)
    if strangers:
        shown = ", ".join(strangers[:_SHOWN])
        more = f" and {len(strangers) - _SHOWN} more" if len(strangers) > _SHOWN else ""
        raise WipeRefused(
            f"nothing was deleted: {root} holds files Sanctum did not make ({shown}{more}), so it may not be "
            "Sanctum's data folder. Check SANCTUM_HOME (or the folder chosen); if it is Sanctum's, move those "
            "files elsewhere first"
        )


def wipe_data(root: Path) -> list[str]:
    """Delete the data key and every file Sanctum made under ``root`` (the folder itself stays).

    Returns:
        The names removed.

    Raises:
        WipeRefused: ``root`` holds files Sanctum did not make; nothing was deleted.
    """
    root = Path(root)
    if not root.exists():
        return []
    check_wipeable(root)
    _forget_key(root)
    (root / KEYINFO).unlink(missing_ok=True)
    removed = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
        removed.append(child.name)
    return removed


def _forget_key(root: Path) -> None:
    """Delete this folder's key from the keyring, only if the entry is the one Sanctum made for it."""
    try:
        info = json.loads((root / KEYINFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no or damaged key info: nothing of ours to take out of the keyring
    if not isinstance(info, dict) or info.get("mode") != "keyring":
        return
    service, account = info.get("service", SERVICE), str(info.get("account", ""))
    if service != SERVICE or not _ACCOUNT.match(account):
        return  # not an entry Sanctum would have made: leave it alone
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    with contextlib.suppress(KeyringError):
        stored = keyring.get_password(SERVICE, account)
        if not stored:
            return
        try:
            Cipher(base64.b64decode(stored)).decrypt(base64.b64decode(str(info["check"])))
        except (DataLocked, KeyError, ValueError):
            return  # the entry holds another key: not this folder's
        with contextlib.suppress(PasswordDeleteError):
            keyring.delete_password(SERVICE, account)
