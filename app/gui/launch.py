"""Start the desktop app, or explain clearly why it cannot start here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

NO_DISPLAY = (
    "sanctum: no display found, so the desktop window cannot open here.\n"
    "Use the command line instead, for example:\n"
    "  sanctum ingest ~/Documents/reports     add files or folders\n"
    "  sanctum ask \"What does the discharge summary say about dosage?\"\n"
    "  sanctum --help                          all commands"
)


def has_display() -> bool:
    """True when Qt can open a window (or was told to render offscreen)."""
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal", "vnc")):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True  # Windows and macOS always have a desktop session for a GUI app


def launch(*, quit_after: float | None = None, screenshot: Path | None = None,
           chat_model: Path | None = None, embedding_model: Path | None = None) -> int:
    """Open the main window and run the event loop; returns the exit code.

    Args:
        quit_after: Close the app this many seconds after the window is ready (smoke tests).
        screenshot: Save a PNG of the window just before quitting (smoke tests, docs).
        chat_model, embedding_model: Models for this run (``sanctum --model FILE.gguf gui``).
    """
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    from app.gui.app import run

    return run(quit_after=quit_after, screenshot=screenshot, chat_model=chat_model, embedding_model=embedding_model)
