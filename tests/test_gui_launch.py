"""The desktop entry point: a window where there is a display, a clear message where there is none."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QImage

from tests.conftest import run_cli


def test_no_display_explains_and_points_to_the_commands(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for launch in ((), ("gui",)):
        result = run_cli(*launch, env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""} | {
            k: env[k] for k in ("PATH", "SANCTUM_HOME") if k in env})
        assert result.returncode == 1
        assert "no display found" in result.stderr
        assert "sanctum ingest" in result.stderr and "sanctum ask" in result.stderr


def test_gui_smoke_run_saves_a_screenshot_and_exits(home: Path, tmp_path: Path) -> None:
    shot = tmp_path / "window.png"
    result = run_cli("gui", "--quit-after", "4", "--screenshot", str(shot),
                     env={"QT_QPA_PLATFORM": "offscreen", "SANCTUM_PASSPHRASE": "smoke test passphrase"})
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert not image.isNull() and image.width() > 800
    assert (home / "window.ini").exists(), "window geometry was not kept"
