"""The desktop entry point: a window where there is a display, a clear message where there is none."""

from __future__ import annotations

import os
from pathlib import Path

from app.gui.app import MainWindow
from tests.conftest import run_cli


def test_no_display_explains_and_points_to_the_commands(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for launch in ((), ("gui",)):
        result = run_cli(*launch, env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""} | {
            k: env[k] for k in ("PATH", "SANCTUM_HOME") if k in env})
        assert result.returncode == 1
        assert "no display found" in result.stderr
        assert "sanctum ingest" in result.stderr and "sanctum ask" in result.stderr


def test_window_shows_model_and_library(qtbot, home: Path) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: "Qwen2.5 Coder 0.5B" in window.model_label.text(), timeout=60_000)
    assert "Q4_K_M" in window.model_label.text()
    assert window.library_label.text() == "0 documents in your library"
    assert window.windowTitle() == "Sanctum"
