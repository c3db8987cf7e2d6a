"""Plaintext never touches the disk, and what Sanctum keeps there is its user's alone.

A .doc or .ppt is converted by LibreOffice from a decrypted copy: that copy lives in a private
folder in memory that is removed when the conversion ends, and, when the worker is killed in the
middle (cancel, quit, the time limit), by the next worker as it starts. The data folder is 0700 and
its files 0600, checked and fixed on every open.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.errors import ParseTimeout
from app.core.ingest.parse_pool import ParserPool
from app.core.models.embedder import Embedder
from tests import docmaker, hostile
from tests.conftest import REPO, typed_passphrase

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes and /proc are POSIX/Linux")


def _dead_pid() -> int:
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat_line = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return " Z " not in stat_line  # a zombie is dead


@pytest.fixture
def fake_soffice(tmp_path: Path) -> Iterator[Path]:
    log = hostile.install_fake_soffice(tmp_path / "bin", "Canary doc: the crash cart is sealed after each check.")
    with hostile.env_path(tmp_path / "bin"):
        yield log
    for call in hostile.calls(log):
        _kill(call["pid"])


@posix_only
def test_a_conversion_killed_by_the_time_limit_leaves_nothing_behind(tmp_path: Path, fake_soffice: Path) -> None:
    (fake_soffice.parent / "hang").touch()  # the converter writes half a file, then never finishes
    with hostile.CountingServer() as server:
        doc = hostile.make_linking_doc(tmp_path / "legacy.doc", server)
    before = hostile.conversion_folders()
    pool = ParserPool(timeout_s=6)
    try:
        with pytest.raises(ParseTimeout):
            pool.result(pool.submit(doc))
        (call,) = hostile.calls(fake_soffice)
        private = Path(call["profile"].removeprefix("file://")).parent
        # The next file starts a fresh worker, which sweeps what the killed one left.
        text = docmaker.make_text(tmp_path / "next.txt", "The next file in the batch.")
        assert "next file" in pool.result(pool.submit(text)).sections[0].text
    finally:
        pool.close()
    deadline = time.monotonic() + 10
    while _alive(call["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(call["pid"]), "the converter outlived the worker that started it"
    assert not private.exists(), f"{private} (decrypted input, half-converted output) was left behind"
    assert hostile.conversion_folders() - before == set()


@posix_only
def test_a_folder_left_by_a_crash_is_swept_when_sanctum_starts(tmp_path: Path) -> None:
    import tempfile

    root = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    stale = root / f"sanctum-convert-{_dead_pid()}-leftover"
    stale.mkdir(mode=0o700)
    (stale / "input.doc").write_bytes(b"decrypted patient letter")
    older = root / "sanctum-convert-k3j9_x2q"  # the name an earlier version gave its folders
    older.mkdir(mode=0o700)
    sleeper = subprocess.Popen(["sleep", "60"])
    busy = root / f"sanctum-convert-{sleeper.pid}-inuse"  # a conversion still running elsewhere
    busy.mkdir(mode=0o700)
    try:
        pool = ParserPool(timeout_s=30)
        try:
            text = docmaker.make_text(tmp_path / "a.txt", "Anything at all.")
            pool.result(pool.submit(text))
        finally:
            pool.close()
        assert not stale.exists() and not older.exists()
        assert busy.exists(), "a folder of a live conversion must not be swept"
        # The launcher sweeps too (the desktop app may start no file reader at all).
        stale.mkdir(mode=0o700)
        code = "from app.cli.main import main; main(['config', 'show'])"
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO), "SANCTUM_HOME": str(tmp_path / "home")})
        assert not stale.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
        for folder in (stale, older, busy):
            with contextlib.suppress(OSError):
                for child in folder.iterdir():
                    child.unlink()
                folder.rmdir()


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


@posix_only
def test_the_data_folder_is_private_after_ingest_and_a_conversation_and_fixed_on_open(
    tmp_path: Path, embedder: Embedder
) -> None:
    home = tmp_path / "data"
    docs = tmp_path / "docs"
    docs.mkdir()
    docmaker.make_text(docs / "rota.txt", "The night sister on ward 4 is Grace Okafor.")
    old = os.umask(0o022)  # a usual desktop umask: without care the folder would be 0755, files 0644
    try:
        with Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase) as engine:
            outcomes = engine.ingest_service().ingest([docs])
            assert [o.status for o in outcomes] == ["ingested"]
            conversation = engine.conversations().create("Night rota")
            engine.conversations().append(conversation.conv_id, "user", "Who is the night sister?")
            engine.audit.record("test.event")
        modes = _modes(home)
        loose = {name: oct(mode) for name, mode in modes.items()
                 if mode & 0o077 or (mode != 0o700 and (home / name).is_dir())}
        assert loose == {}, loose
        assert {"library.sqlite3", "conversations.sqlite3", "keyinfo.json", "audit.log", "store"} <= set(modes)
        # Loosened behind Sanctum's back (a copy, a restore): tightened again when opened.
        home.chmod(0o755)
        (home / "library.sqlite3").chmod(0o644)
        (home / "store").chmod(0o755)
        with Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase):
            pass
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        assert stat.S_IMODE((home / "library.sqlite3").stat().st_mode) == 0o600
        assert stat.S_IMODE((home / "store").stat().st_mode) == 0o700
    finally:
        os.umask(old)
