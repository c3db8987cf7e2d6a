"""Render the app icon (an SVG) to the PNG sizes of the freedesktop icon theme, with Qt.

    QT_QPA_PLATFORM=offscreen python installers/render_icons.py resources/sanctum.svg OUT/icons/hicolor

writes OUT/icons/hicolor/<N>x<N>/apps/sanctum.png for N in 48, 128, 256, and scalable/apps/sanctum.svg.

    QT_QPA_PLATFORM=offscreen python installers/render_icons.py --windows-mac resources/sanctum.svg resources

writes resources/sanctum.ico (16…256 px, Windows) and resources/sanctum.icns (16…1024 px, macOS) with
Pillow, from a 1024 px rendering. Build tool only (the build venv's PySide6 and Pillow); not part of the app.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SIZES = (48, 128, 256)


def _png(svg: Path, size: int, out: Path) -> Path:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"render_icons: could not write {out}")
    return out


def render(svg: Path, hicolor: Path) -> list[Path]:
    written = [_png(svg, size, hicolor / f"{size}x{size}" / "apps" / "sanctum.png") for size in SIZES]
    scalable = hicolor / "scalable" / "apps" / "sanctum.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    return [*written, scalable]


def windows_mac(svg: Path, folder: Path) -> list[Path]:
    import tempfile

    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        big = Image.open(_png(svg, 1024, Path(tmp) / "icon.png")).convert("RGBA")
        ico, icns = folder / "sanctum.ico", folder / "sanctum.icns"
        big.save(ico, sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
        big.save(icns)  # Pillow writes every ICNS size up to the image's own (1024)
    return [ico, icns]


if __name__ == "__main__":
    args = sys.argv[1:]
    make = render
    if args[:1] == ["--windows-mac"]:
        make, args = windows_mac, args[1:]
    if len(args) != 2:
        raise SystemExit("usage: render_icons.py [--windows-mac] ICON.svg OUT_DIR")
    for path in make(Path(args[0]), Path(args[1])):
        print(path)
