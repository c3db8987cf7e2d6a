"""Memory: peak resident memory idle, with the models loaded, and while ingesting a large PDF.

- Idle and loaded: one launch of the desktop app (the startup benchmark's watcher, see
  :mod:`app.bench.startup`): resident memory at the window's first paint, and the process's peak
  once the chat model and the embedder are loaded. A bare Qt window is the reference.
- Ingest: ``sanctum ingest`` of a generated text PDF (``pages`` pages, a few hundred words each,
  written into a temporary folder), run as its own process on a temporary data folder, while
  this process samples the peak resident memory (VmHWM) of it and of every process it starts
  (the parser worker) every 50 ms. The same is done with a PDF a quarter the size: if memory
  grew with the page count, the two peaks would differ by the text's size and more.

Reads /proc, so Linux only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.bench import startup

_WORDS = [
    "patient", "ward", "dose", "infusion", "heparin", "monitoring", "chart", "escalation", "consultant",
    "nurse", "handover", "observation", "pressure", "saturation", "rhythm", "potassium", "creatinine",
    "discharge", "protocol", "theatre", "allergy", "antibiotic", "sepsis", "fluid", "balance", "catheter",
    "dressing", "wound", "review", "plan", "family", "consent", "audit", "guideline", "evidence", "outcome",
    "cohort", "trial", "placebo", "hazard", "ratio", "interval", "baseline",
]


def write_pdf(path: Path, pages: int, *, lines_per_page: int = 40, words_per_line: int = 10) -> Path:
    """A text PDF of ``pages`` pages (Helvetica, varied words and numbers), written page by page."""

    def literal(text: str) -> bytes:
        return b"(" + text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    offsets: list[int] = []
    n_objects = 3 + 2 * pages
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n")

        def obj(number: int, body: bytes) -> None:
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = b" ".join(b"%d 0 R" % (5 + 2 * i) for i in range(pages))
        obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))
        obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        k = 0
        for page in range(pages):
            ops = [b"BT /F1 10 Tf 13 TL 50 760 Td", literal(f"Section {page + 1}: ward report") + b" Tj T*"]
            for line in range(lines_per_page):
                words = []
                for _ in range(words_per_line):
                    k += 1
                    words.append(_WORDS[(k * 7 + page) % len(_WORDS)])
                words.append(f"{(page * 131 + line * 17) % 997}.{line % 10}")
                ops.append(literal(" ".join(words)) + b" Tj T*")
            ops.append(b"ET")
            stream = b"\n".join(ops)
            obj(4 + 2 * page, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
            obj(5 + 2 * page, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 3 0 R >> >> >>" % (4 + 2 * page))
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (n_objects + 1))
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (n_objects + 1, xref))
    return path


def _status(pid: int) -> dict[str, int]:
    """VmRSS/VmHWM (kB) of a process, or {} once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in fh)
                    if k in ("VmRSS", "VmHWM")}
    except (OSError, ValueError):
        return {}


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def _children(pid: int) -> list[int]:
    """Every live descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def ingest_peak(pdf: Path, home: Path) -> dict[str, Any]:
    """Run ``sanctum ingest pdf`` and sample the peak memory of it and of its children."""
    env = startup.child_env(home, models=False)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "ingest", "--json", str(pdf)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_parent = 0
    peak_children: dict[int, int] = {}
    names: dict[int, str] = {}
    while proc.poll() is None:
        peak_parent = max(peak_parent, _status(proc.pid).get("VmHWM", 0))
        for child in _children(proc.pid):
            peak_children[child] = max(peak_children.get(child, 0), _status(child).get("VmHWM", 0))
            if child not in names:
                names[child] = _cmdline(child)
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"sanctum ingest failed (exit {proc.returncode}): {err.strip()[-2000:]}")
    outcome = json.loads(out)[0]
    if outcome["status"] != "ingested":
        raise RuntimeError(f"the PDF was not ingested: {outcome}")
    return {
        "chunks": outcome["chunks"],
        "seconds": round(time.perf_counter() - started, 1),
        "parent_peak_mb": round(peak_parent / 1024, 1),
        "worker_peak_mb": round(max((kb for pid, kb in peak_children.items() if "spawn_main" in names[pid]),
                                    default=0) / 1024, 1),
        "children": {f"{pid} {names[pid][:120]}": round(kb / 1024, 1) for pid, kb in peak_children.items()},
    }


def run(*, pages: int = 600, window: bool = True) -> dict[str, Any]:
    """Measure (``window`` False: only the ingests); returns a JSON-ready result."""
    result: dict[str, Any] = {"benchmark": "memory"}
    with tempfile.TemporaryDirectory(prefix="sanctum-bench-memory-") as tmp:
        root = Path(tmp)
        if window:
            env = startup.child_env(root / "gui-home", models=True)
            startup._launch(startup._SANCTUM, env)  # first start: checksums, key
            app = startup._launch(startup._SANCTUM, env)
            bare = startup._launch(startup._RAW, env)
            result.update({
                "bare_qt_window_mb": bare.get("rss_visible_mb"),
                "idle_window_mb": app.get("rss_visible_mb"),
                "heavy_imported_at_visible": app.get("heavy_imported_at_visible"),
                "models_loaded_peak_mb": app.get("peak_rss_mb"),
            })
        ingests = {}
        for n in (max(1, pages // 4), pages):
            pdf = write_pdf(root / f"report-{n}-pages.pdf", n)
            figures = ingest_peak(pdf, root / f"ingest-home-{n}")
            figures["pdf_mb"] = round(pdf.stat().st_size / 2**20, 2)
            ingests[str(n)] = figures
    result.update({"pages": pages, "ingest": ingests})
    return result


def table(result: dict[str, Any]) -> str:
    lines = ["memory (resident set, MB)"]
    if "idle_window_mb" in result:
        lines += [
            f"{'bare Qt window':44}{result['bare_qt_window_mb']:>10.0f}",
            f"{'Sanctum window open, nothing loaded':44}{result['idle_window_mb']:>10.0f}",
            f"{'Sanctum, chat model + embedder loaded (peak)':44}{result['models_loaded_peak_mb']:>10.0f}",
        ]
    lines += [
        f"{'ingesting a PDF (peak):':44}{'parent':>10}{'parser':>10}{'chunks':>10}{'time (s)':>10}",
    ]
    for n, figures in result["ingest"].items():
        label = f"  {n} pages ({figures['pdf_mb']} MB file)"
        lines.append(f"{label:44}{figures['parent_peak_mb']:>10.0f}"
                     f"{figures['worker_peak_mb']:>10.0f}{figures['chunks']:>10}{figures['seconds']:>10.1f}")
    return "\n".join(lines)
