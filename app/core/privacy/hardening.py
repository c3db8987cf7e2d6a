"""Process hardening: no core dumps, private file modes, and a bare environment for helper programs.

The parser worker is expected to crash on hostile files. A core dump (or a crash reporter such as
systemd-coredump or apport, which the kernel calls for dumpable processes) would keep a copy of
the process's memory on disk: document text, and in the app the data key. :func:`harden_process`
turns both off for the process that calls it (``RLIMIT_CORE`` 0, and on Linux
``prctl(PR_SET_DUMPABLE, 0)``), and sets the umask so every file the process creates is readable
by its owner only. The launcher (``app.cli.main``) and every worker initializer call it; nothing
happens at import.

Helper programs (``tesseract``, LibreOffice's ``soffice``) get :func:`child_environment`: only what
they need to run, never the user's proxies, D-Bus session, ``SANCTUM_PASSPHRASE`` or home folder.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Mapping

#: Files and folders this process creates: owner only (0600 files, 0700 folders).
PRIVATE_UMASK = 0o077
_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3
_PR_SET_PDEATHSIG = 1
#: Variables a helper program may keep from our environment (locale and search path only).
_CHILD_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TESSDATA_PREFIX", "SYSTEMROOT", "WINDIR")


def harden_process() -> None:
    """No core dumps, not dumpable, private umask; for the calling process (and what it starts)."""
    os.umask(PRIVATE_UMASK)
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        _prctl(_PR_SET_DUMPABLE, 0)


def is_dumpable() -> bool | None:
    """Whether the kernel would dump this process's memory (Linux); None where it cannot be asked."""
    if not sys.platform.startswith("linux"):
        return None
    result = _prctl(_PR_GET_DUMPABLE, 0)
    return None if result is None else bool(result)


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; a ``preexec_fn``).

    A helper program started by the parser worker must not outlive it: when the worker is killed
    (timeout, cancel, quit) LibreOffice would otherwise go on writing into a folder that is being
    removed.
    """
    if sys.platform.startswith("linux"):
        import signal

        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def _prctl(option: int, value: int) -> int | None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        result = int(libc.prctl(option, value, 0, 0, 0))
    except (OSError, AttributeError):
        return None
    return None if result < 0 else result


def child_environment(home: str | os.PathLike[str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a helper program: a search path, the locale, and a private home.

    Nothing else of ours passes: no proxy settings, no D-Bus address (a converter could reach the
    desktop session through it), no ``SANCTUM_PASSPHRASE``, no ``HOME``/``XDG_*`` folders of the
    user. ``home`` (a private, throw-away folder) is its HOME and its temporary folder.
    """
    env = {name: os.environ[name] for name in _CHILD_KEEP if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    folder = os.fspath(home)
    env.update({"HOME": folder, "TMPDIR": folder, "TMP": folder, "TEMP": folder,
                "XDG_CONFIG_HOME": folder, "XDG_CACHE_HOME": folder, "XDG_DATA_HOME": folder,
                "XDG_RUNTIME_DIR": folder})
    if extra:
        env.update(extra)
    return env


def secure_folder(root: str | os.PathLike[str]) -> list[str]:
    """Make the data folder private: umask 077 for this process, the folder and its folders 0700,
    its files 0600. Returns what had to be fixed (relative paths), for the caller to report.

    Run when a data folder is opened: one created by an older version (0755/0644), or loosened
    by a copy or a backup restore, is tightened again. Symbolic links are not followed. No-op
    where the platform has no POSIX modes.
    """
    if os.name != "posix":
        return []
    os.umask(PRIVATE_UMASK)
    fixed = []
    top = os.fspath(root)
    for folder, dirs, files in os.walk(top):
        for name, want in ((None, 0o700), *((d, 0o700) for d in dirs), *((f, 0o600) for f in files)):
            path = folder if name is None else os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077 == 0:
                continue
            with contextlib.suppress(OSError):
                os.chmod(path, stat.S_IMODE(info.st_mode) & want)
                fixed.append(os.path.relpath(path, top))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return fixed
