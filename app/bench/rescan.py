"""``sanctum bench rescan``: a second pass over a followed folder of unchanged files.

A fresh library follows a folder of small text files and ingests them for real (first pass:
parse, embed, store). Then, in the same run, these are timed (best and median of ``repeat``):

- ``os.scandir`` + ``stat`` of the whole tree: the floor of any stat-based rescan;
- :meth:`WatchService.rescan` (``sanctum rescan``): nothing changed, so nothing may be opened;
- :meth:`IngestService.ingest` of the same folder again (``sanctum ingest DIR`` a second time).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.engine import Engine
from app.core.ingest.service import UNCHANGED

_WORDS = ["ward", "dose", "audit", "handover", "sepsis", "consent", "discharge", "pump", "oxygen", "falls"]


def make_folder(folder: Path, files: int, per_dir: int = 100) -> None:
    """``files`` small notes in sub-folders of ``per_dir``, last modified an hour ago."""
    old = time.time() - 3600
    for i in range(files):
        sub = folder / f"dept{i // per_dir:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"note{i:05d}.txt"
        path.write_text(f"Note {i}: {_WORDS[i % 10]} {_WORDS[(i // 10) % 10]} checked on shift {i % 7}.\n")
        os.utime(path, (old, old))


def scandir_stat(folder: Path) -> int:
    """Walk with ``os.scandir`` and stat every file; returns how many."""
    n, stack = 0, [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    entry.stat()
                    n += 1
    return n


def _times(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return {"best_ms": round(1000 * min(samples), 2), "median_ms": round(1000 * statistics.median(samples), 2)}


def run(*, files: int = 1000, repeat: int = 5, embedding_model: Path | None = None, passphrase: Any = None,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sanctum-bench-rescan-") as tmp:
        folder = Path(tmp) / "notes"
        make_folder(folder, files)
        with Engine(Path(tmp) / "home", settings=Settings(), embedding_model=embedding_model,
                    passphrase=passphrase) as engine:
            watch = engine.watch_service()
            watch.add(folder)
            time.sleep(watch.settle_s + 0.1)  # files just written are left for a later pass (still copying?)
            log(f"first pass: ingesting {files} files …")
            t0 = time.perf_counter()
            first = watch.rescan()
            first_s = time.perf_counter() - t0
            ingested = sum(1 for o in first.outcomes if o.status == "ingested")
            second = watch.rescan()
            assert second.unchanged == files and not second.outcomes, "an unchanged folder needed work"
            raw = _times(lambda: scandir_stat(folder), repeat)
            rescan = _times(watch.rescan, repeat)
            service = engine.ingest_service()
            again = service.ingest([folder])
            assert all(o.status == UNCHANGED for o in again), "an unchanged file was ingested again"
            ingest = _times(lambda: service.ingest([folder]), repeat)
    return {"benchmark": "rescan", "files": files, "repeat": repeat, "first_pass_s": round(first_s, 1),
            "first_pass_ingested": ingested, "scandir_stat": raw, "watch_rescan": rescan, "ingest_again": ingest,
            "rescan_vs_scandir": round(rescan["best_ms"] / raw["best_ms"], 2),
            "ingest_again_vs_scandir": round(ingest["best_ms"] / raw["best_ms"], 2)}


def table(r: dict[str, Any]) -> str:
    lines = [f"rescan: {r['files']} unchanged small files (first pass ingested {r['first_pass_ingested']} in "
             f"{r['first_pass_s']} s); best and median of {r['repeat']}",
             f"{'':34}{'best':>10}{'median':>10}{'vs scandir':>12}",
             f"{'os.scandir + stat (raw)':34}{r['scandir_stat']['best_ms']:>8.1f}ms"
             f"{r['scandir_stat']['median_ms']:>8.1f}ms{1:>11.2f}x",
             f"{'sanctum rescan (WatchService)':34}{r['watch_rescan']['best_ms']:>8.1f}ms"
             f"{r['watch_rescan']['median_ms']:>8.1f}ms{r['rescan_vs_scandir']:>11.2f}x",
             f"{'sanctum ingest DIR again':34}{r['ingest_again']['best_ms']:>8.1f}ms"
             f"{r['ingest_again']['median_ms']:>8.1f}ms{r['ingest_again_vs_scandir']:>11.2f}x"]
    return "\n".join(lines)
