"""The Linux installer's pieces that can be checked without the (slow) PyInstaller build.

The build and the end-to-end smoke test of the real bundle are `installers/build.sh` and
`installers/smoke.sh` (see installers/README.md). Here: the per-user install, upgrade and
uninstall scripts on a stand-in bundle, the icon rendering, and that the spec does not strip a
Qt module the GUI imports.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INSTALLERS = REPO / "installers"


def _package(tmp_path: Path, version: str) -> Path:
    """An unpacked tarball laid out as build.sh packs it, with a shell script as the 'bundle'."""
    pkg = tmp_path / f"Sanctum-{version}-linux-x86_64"
    (pkg / "Sanctum").mkdir(parents=True)
    exe = pkg / "Sanctum" / "sanctum"
    exe.write_text(f'#!/bin/sh\necho "$*" >> "$HOME/sanctum-calls"\necho sanctum {version}\n')
    exe.chmod(0o755)
    for name in ("install.sh", "uninstall.sh", "sanctum.desktop"):
        src = INSTALLERS / "linux" / name
        (pkg / name).write_bytes(src.read_bytes())
        (pkg / name).chmod(src.stat().st_mode)
    (pkg / "VERSION").write_text(version + "\n")
    for size in (48, 128, 256):
        icon = pkg / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "sanctum.png"
        icon.parent.mkdir(parents=True)
        icon.write_bytes(b"png")
    return pkg


def _run(cmd: list[str], home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), **extra}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_install_upgrade_uninstall_keep_data_until_purged(tmp_path: Path) -> None:
    if os.uname().machine != "x86_64":
        pytest.skip("the Linux bundle is built for x86_64")
    home = tmp_path / "home"
    local = home / ".local"
    data = local / "share" / "Sanctum"
    old, new = _package(tmp_path / "a", "0.1.0"), _package(tmp_path / "b", "0.2.0")

    r = _run([str(old / "install.sh")], home)
    assert r.returncode == 0, r.stderr
    sanctum = local / "bin" / "sanctum"
    assert subprocess.run([str(sanctum)], capture_output=True, text=True).stdout.strip() == "sanctum 0.1.0"
    desktop = (local / "share" / "applications" / "sanctum.desktop").read_text()
    assert f"Exec={local}/lib/sanctum/Sanctum/sanctum gui\n" in desktop
    assert (local / "share" / "icons" / "hicolor" / "256x256" / "apps" / "sanctum.png").is_file()

    # The user's data lives outside the install; an upgrade must not touch it.
    data.mkdir(parents=True)
    (data / "library.sqlite3").write_text("my library")
    r = _run([str(new / "install.sh")], home)
    assert r.returncode == 0, r.stderr
    assert "upgraded Sanctum 0.1.0 -> 0.2.0" in r.stdout
    assert subprocess.run([str(sanctum)], capture_output=True, text=True).stdout.strip() == "sanctum 0.2.0"
    assert (data / "library.sqlite3").read_text() == "my library"
    assert not list((local / "lib").glob(".sanctum-new.*")) and not list((local / "lib").glob("sanctum.old.*"))

    # Uninstall keeps the data; --purge-data without a terminal needs --yes.
    r = _run([str(local / "lib" / "sanctum" / "uninstall.sh")], home)
    assert r.returncode == 0, r.stderr
    assert not sanctum.exists() and not (local / "lib" / "sanctum").exists()
    assert not (local / "share" / "applications" / "sanctum.desktop").exists()
    assert (data / "library.sqlite3").is_file()
    assert "your data is kept" in r.stdout

    _run([str(new / "install.sh")], home)
    r = _run([str(local / "lib" / "sanctum" / "uninstall.sh"), "--purge-data"], home)
    assert r.returncode == 2 and "--yes" in r.stderr
    assert (data / "library.sqlite3").is_file() and (local / "lib" / "sanctum").exists()
    r = _run([str(local / "lib" / "sanctum" / "uninstall.sh"), "--purge-data", "--yes"], home)
    assert r.returncode == 0, r.stderr
    assert not data.exists() and not (local / "lib" / "sanctum").exists()
    # The bundle's own `sanctum wipe` ran first (it removes the data key from the keyring too).
    assert (home / "sanctum-calls").read_text().splitlines()[-1] == "wipe --yes"


def test_icons_render_at_the_theme_sizes(tmp_path: Path, qapp: object) -> None:
    # qapp: the suite's QApplication exists first, so render() does not create a bare QGuiApplication.
    from PySide6.QtGui import QImage

    from installers.render_icons import render

    written = render(REPO / "resources" / "sanctum.svg", tmp_path / "hicolor")
    for size in (48, 128, 256):
        image = QImage(str(tmp_path / "hicolor" / f"{size}x{size}" / "apps" / "sanctum.png"))
        assert (image.width(), image.height()) == (size, size)
        # Drawn, not blank: the centre pixel of the icon is opaque.
        assert image.pixelColor(size // 2, size // 2).alpha() > 0
    assert (tmp_path / "hicolor" / "scalable" / "apps" / "sanctum.svg") in written


def _spec_list(name: str) -> list[str]:
    tree = ast.parse((INSTALLERS / "sanctum.spec").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{name} not found in sanctum.spec")


def test_spec_keeps_every_qt_module_the_app_imports() -> None:
    used = set()
    for path in (REPO / "app").rglob("*.py"):
        used |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    assert {"QtCore", "QtGui", "QtWidgets", "QtPdf", "QtPdfWidgets"} <= used
    stripped = set(_spec_list("UNUSED_QT"))
    assert not used & stripped, f"the bundle would lack {sorted(used & stripped)}: update UNUSED_QT in sanctum.spec"
