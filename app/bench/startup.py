"""Startup: launch to a visible window, and to loaded models, against a bare Qt window.

Each launch is a fresh process. Sanctum's side runs the real entry point (``app.cli.main([])``,
what the ``sanctum`` command does) on a temporary data folder; the raw side is a bare
``QApplication`` + ``QMainWindow`` of the same size, nothing else. Both children carry the same
small watcher (an application-wide event filter installed before the app is built): "visible" is
the main window's first paint, which Qt only delivers once the window is exposed. On Sanctum's
side the watcher then waits until the chat model and the embedder are loaded (the window loads
them in its worker lanes after showing) and closes the window. Times are wall-clock seconds
from the parent's ``Popen`` to the event; the first launch of each side is a discarded warm-up
(it also verifies the model files' checksums once, as a first start after install does).

The watcher also notes which heavy libraries were already imported when the window first
painted (they should not be: they belong after the window shows) and the process's resident
memory then and at the end (read from /proc, so Linux only).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "llama_cpp")

# Runs inside each child before the app is built; reports one JSON line on stdout at the end.
_WATCHER = r"""
import json, os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

MODELS = os.environ.get("SANCTUM_BENCH_MODELS") == "1"
HEAVY = %(heavy)r
marks = {"imported": time.time()}

def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)

def report(window):
    marks["rss_end_mb"] = rss_mb()
    marks["peak_rss_mb"] = rss_mb("VmHWM")
    print("BENCH " + json.dumps(marks), flush=True)
    window.close()
    QApplication.instance().quit()

class Watcher(QObject):
    def eventFilter(self, obj, event):
        if "visible" not in marks and event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
            marks["visible"] = time.time()
            marks["rss_visible_mb"] = rss_mb()
            marks["heavy_imported_at_visible"] = [m for m in HEAVY if m in sys.modules]
            QTimer.singleShot(0, lambda: poll(obj))
        return False

def poll(window):
    engine = getattr(window, "engine", None)
    if not MODELS or engine is None:  # the bare window has no models to wait for
        return report(window)
    if getattr(window, "model_ready", False) and "chat_model" not in marks:
        marks["chat_model"] = time.time()
    if engine._embedder is not None and "embedder" not in marks:
        marks["embedder"] = time.time()
    if "chat_model" in marks and "embedder" in marks or time.time() - marks["visible"] > 300:
        return report(window)
    QTimer.singleShot(20, lambda: poll(window))

app = QApplication.instance() or QApplication(sys.argv)
watcher = Watcher()
app.installEventFilter(watcher)
"""

_SANCTUM = "from app.cli.main import main\nsys.exit(main([]))\n"
_RAW = (
    "window = QMainWindow()\nwindow.setWindowTitle('bare')\nwindow.resize(1280, 800)\n"
    "window.show()\nsys.exit(app.exec())\n"
)


def _launch(code: str, env: dict[str, str]) -> dict[str, Any]:
    started = time.time()
    proc = subprocess.run([sys.executable, "-c", _WATCHER % {"heavy": HEAVY} + code], env=env,
                          capture_output=True, text=True, timeout=600)
    ended = time.time()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the launch failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    marks = json.loads(lines[-1][len("BENCH "):])
    out: dict[str, Any] = {"exit_s": round(ended - started, 3)}
    for key in ("imported", "visible", "chat_model", "embedder"):
        if key in marks:
            out[f"{key}_s"] = round(marks[key] - started, 3)
    out.update({k: v for k, v in marks.items() if k.endswith("_mb") or k.startswith("heavy")})
    return out


def child_env(home: Path, *, models: bool) -> dict[str, str]:
    """The environment a benchmark child runs in: offscreen Qt, a temporary data folder."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["SANCTUM_HOME"] = str(home)
    env.setdefault("SANCTUM_PASSPHRASE", "sanctum-bench-passphrase")  # no keyring on a bench machine
    env["SANCTUM_BENCH_MODELS"] = "1" if models else "0"
    return env


def run(*, rounds: int = 3, models: bool = True) -> dict[str, Any]:
    """Launch each side ``rounds`` times (alternating, after a warm-up each); returns a JSON-ready result."""
    with tempfile.TemporaryDirectory(prefix="sanctum-bench-startup-") as tmp:
        env = child_env(Path(tmp) / "home", models=models)
        _launch(_RAW, env)
        _launch(_SANCTUM, env)  # first start: verifies the models' checksums, creates the key
        raw, sanctum = [], []
        for _ in range(rounds):
            raw.append(_launch(_RAW, env))
            sanctum.append(_launch(_SANCTUM, env))
    return {
        "benchmark": "startup",
        "platform": env["QT_QPA_PLATFORM"],
        "rounds": rounds,
        "raw": _median(raw),
        "sanctum": _median(sanctum),
        "ratio_visible": round(_median(sanctum)["visible_s"] / _median(raw)["visible_s"], 2),
        "heavy_imported_at_visible": sorted({m for r in sanctum for m in r["heavy_imported_at_visible"]}),
        "launches": {"raw": raw, "sanctum": sanctum},
    }


def _median(runs: list[dict[str, Any]]) -> dict[str, float]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}


def table(result: dict[str, Any]) -> str:
    r, s = result["raw"], result["sanctum"]

    def row(label: str, key: str, fmt: str = ".3f") -> str:
        def cell(side: dict[str, float]) -> str:
            return format(side[key], fmt) if key in side else "-"

        return f"{label:34}{cell(r):>12}{cell(s):>10}"

    heavy = ", ".join(result["heavy_imported_at_visible"]) or "none"
    lines = [
        f"startup: median of {result['rounds']} fresh launches per side, alternating "
        f"(QT_QPA_PLATFORM={result['platform']})",
        f"{'':34}{'bare Qt':>12}{'Sanctum':>10}",
        row("Python + imports done (s)", "imported_s"),
        row("window visible, first paint (s)", "visible_s"),
        row("chat model loaded (s)", "chat_model_s"),
        row("embedder loaded (s)", "embedder_s"),
        row("RSS when visible (MB)", "rss_visible_mb", ".0f"),
        row("peak RSS (MB)", "peak_rss_mb", ".0f"),
        f"window visible: Sanctum/bare {result['ratio_visible']:.2f}; heavy libraries imported before "
        f"the window showed: {heavy}",
    ]
    return "\n".join(lines)
