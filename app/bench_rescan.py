"""Benchmark: a rescan of an unchanged followed folder, against a bare walk + stat of it.

    python -m app.bench_rescan --files 5000

Builds a folder of small text files in a temporary directory and registers them as ingested (rows
written straight into a fresh registry: this measures the unchanged pass, not embedding), then
times, in one run, ``os.walk`` + ``os.stat`` of every file (the floor any stat-based rescan has) and
:meth:`WatchService.rescan`. Each is repeated and the best time is kept.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def _populate(folder: Path, files: int, per_dir: int) -> list[Path]:
    made = []
    for i in range(files):
        sub = folder / f"dept{i // per_dir:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"note{i:05d}.txt"
        path.write_text(f"Note {i}: nothing to see.\n")
        made.append(path)
    old = time.time() - 3600
    for path in made:
        os.utime(path, (old, old))
    return made


def _walk_and_stat(folder: Path) -> int:
    n = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            os.stat(os.path.join(root, name))
            n += 1
    return n


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.bench_rescan", description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--per-dir", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from app.core.crypto import Cipher
    from app.core.library import Library
    from app.core.watch import WatchService

    with tempfile.TemporaryDirectory(prefix="sanctum-bench-rescan-") as tmp:
        folder = Path(tmp) / "docs"
        made = _populate(folder, args.files, args.per_dir)
        library = Library(Path(tmp) / "library.sqlite3", cipher=Cipher(os.urandom(32)))
        t0 = time.perf_counter()
        for path in made:
            st = path.stat()
            doc_id = library.mark_indexing(path, content_hash="-", size=st.st_size, mtime_ns=st.st_mtime_ns,
                                           embedder="bench")
            library.mark_ready(doc_id, format="text", title=None, page_count=None, chunk_count=1)
        register_s = time.perf_counter() - t0

        def no_ingest():  # type: ignore[no-untyped-def]
            raise AssertionError("an unchanged folder must not need the ingest service")

        watch = WatchService(library=library, ingest=no_ingest)
        watch.add(folder)
        raw = _best(lambda: _walk_and_stat(folder), args.repeat)
        result = watch.rescan()
        assert result.unchanged == args.files and not result.changed, result
        rescan = _best(watch.rescan, args.repeat)
        library.close()
    print(f"files: {args.files} in {args.files // args.per_dir} folders (registered in {register_s:.1f} s)")
    print(f"os.walk + os.stat:        {raw * 1000:8.1f} ms")
    print(f"WatchService.rescan():    {rescan * 1000:8.1f} ms   ({rescan / raw:.2f}x the bare walk)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
