"""Wipe all data: the key first (so nothing left behind can ever be read), then every file.

Destroying the data key is what makes the wipe final: on SSDs and copy-on-write file systems an
unlinked file's blocks may survive, but they hold only ciphertext whose key no longer exists. The
key is removed from the OS keyring (or, in passphrase mode, the wrapped key in ``keyinfo.json`` is
deleted). The wipe needs no key, so it also works on a folder that can no longer be unlocked.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from app.core.crypto import DataLocked
from app.core.privacy.keys import KEYINFO, KeyManager


def wipe_data(root: Path) -> list[str]:
    """Delete the data key and everything under ``root`` (the folder itself stays); returns the names removed."""
    root = Path(root)
    if not root.exists():
        return []
    with contextlib.suppress(DataLocked):  # damaged key info: nothing to take out of the keyring
        KeyManager(root).forget()
    (root / KEYINFO).unlink(missing_ok=True)
    removed = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
        removed.append(child.name)
    return removed
