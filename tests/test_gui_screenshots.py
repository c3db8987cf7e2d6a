"""The app in a real X window (Xvfb): screenshots of the main states, checked to be real pictures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.conftest import REPO

SHOTS = ("01-first-run.png", "02-cited-answer.png", "03-library-failed-file.png", "04-pdf-viewer.png",
         "07-lock-screen.png")
DIALOGS = ("05-export-dialog.png", "06-settings-privacy.png")


@pytest.fixture
def xvfb() -> str:
    """A private Xvfb server (it picks a free display number itself); yields its DISPLAY."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run `installers/setup.sh test` (it installs xvfb)")
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()
    try:
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_real_window_screenshots(xvfb: str, tmp_path: Path) -> None:
    out = Path(os.environ.get("SANCTUM_SHOTS_DIR", tmp_path / "shots"))
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update({"DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO),
                "SANCTUM_PASSPHRASE": "screenshot passphrase"})
    result = subprocess.run([sys.executable, "-m", "tests.gui_shots", str(out)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report from the screenshot run:\n{result.stdout}\n{result.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert result.returncode == 0 and report["ok"], report
    assert any("Page 2" in chip for chip in report["chips"]), report["chips"]
    assert report["pdf_page"] == report["cited_page"] == 2
    for name in SHOTS:
        image = QImage(str(out / name))
        assert not image.isNull(), f"{name} missing"
        assert image.width() >= 1000 and image.height() >= 600, (name, image.width(), image.height())
        colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 23)}
        assert len(colours) > 8, f"{name} looks blank"
    for name in DIALOGS:
        image = QImage(str(out / name))
        assert not image.isNull() and image.width() >= 400 and image.height() >= 150, name


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_models_window_screenshots(xvfb: str, tmp_path: Path, scheme: str) -> None:
    """The Models window (with a real quantization and a real comparison) and the model chooser,
    800 and 1280 pixels wide, light and dark."""
    out = Path(os.environ.get("SANCTUM_SHOTS_DIR", tmp_path / "shots"))
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update({"DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO),
                "SANCTUM_PASSPHRASE": "screenshot passphrase"})
    result = subprocess.run([sys.executable, "-m", "tests.gui_models_shots", str(out), scheme], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report from the screenshot run:\n{result.stdout}\n{result.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert result.returncode == 0 and report["ok"], report
    assert report["dark"] is (scheme == "dark")
    for width in (800, 1280):
        for kind in ("models", "chat", "chooser"):
            name = f"{scheme}-{width}-{kind}.png"
            image = QImage(str(out / name))
            assert not image.isNull() and image.width() == width, (name, image.width())
            colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 23)}
            assert len(colours) > 8, f"{name} looks blank"
