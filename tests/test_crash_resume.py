"""Killing ``sanctum ingest`` (SIGKILL) at random moments never damages the library.

A folder of generated documents is ingested once without interruption (the reference), and once
by a real ``sanctum ingest`` subprocess that is SIGKILLed again and again at random moments: during
start-up and recovery, while parsing, embedding, writing to Chroma, and between Chroma's write and
the registry's update. After the kills one run is allowed to finish. The two libraries must then
be the same: the same documents and states, the same chunk ids and texts, the same search results.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.models.embedder import Embedder
from app.core.storage.registry import READY
from tests import docmaker
from tests.conftest import typed_passphrase

KILLS = 18
QUERIES = ["sterile dressing change interval", "night shift staffing ratio", "audit of controlled drugs",
           "fire evacuation route", "isolation room cleaning"]
_WORDS = [
    "ward", "patient", "dressing", "audit", "sterile", "night", "shift", "staffing", "ratio", "controlled", "drugs",
    "fire", "evacuation", "route", "isolation", "room", "cleaning", "pharmacy", "ventilator", "oxygen", "handover",
    "escalation", "sepsis", "bundle", "infusion", "pump", "calibration", "consent", "discharge", "pathway", "falls",
    "risk", "pressure", "ulcer", "hand", "hygiene", "catheter", "insertion", "documentation", "theatre", "checklist"
]


def _make_corpus(folder: Path, count: int = 30) -> list[Path]:
    """``count`` documents of several formats, each a few chunks long, with unique content."""
    rng = random.Random(20240611)
    folder.mkdir()
    made = []
    for i in range(count):
        paragraphs = [
            f"Document {i} section {s}: " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(60, 140))) + "."
            for s in range(rng.randint(2, 6))
        ]
        kind = i % 4
        sub = folder / f"group{i % 3}"
        sub.mkdir(exist_ok=True)
        if kind == 0:
            made.append(docmaker.make_pdf(sub / f"doc{i:02d}.pdf", paragraphs))
        elif kind == 1:
            made.append(docmaker.make_docx(sub / f"doc{i:02d}.docx", paragraphs))
        elif kind == 2:
            made.append(docmaker.make_text(sub / f"doc{i:02d}.md", "\n\n".join(paragraphs)))
        else:
            made.append(docmaker.make_text(sub / f"doc{i:02d}.txt", "\n\n".join(paragraphs)))
    return made


def _state(home: Path, embedder: Embedder) -> dict[str, object]:
    """Everything a user could observe of a library, through the engine's own interfaces."""
    with Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase) as engine:
        engine.ingest_service()  # opening it runs recovery, as every run does
        docs = {
            d.path: (d.status, d.content_hash, d.chunk_count, d.page_count, d.format, d.title, d.library,
                     d.size, d.mtime_ns, d.error)
            for d in engine.library.all()
        }
        # Ids are keyed hashes under each data folder's own key: compare by path and position.
        path_of = {d.doc_id: d.path for d in engine.library.all()}

        def where(chunk_id: str) -> tuple[str, str]:
            doc_id, seq = chunk_id.rsplit(":", 1)
            return path_of.get(doc_id, doc_id), seq

        search = engine.search_service()
        chunks = {}
        for d in engine.library.all(READY):
            for p in search.search("document", k=max(d.chunk_count, 1), doc_ids=[d.doc_id]):
                chunks[where(p.chunk_id)] = (path_of[p.doc_id], p.page, p.label, p.text)
        results = {q: [(where(p.chunk_id), round(p.score, 4)) for p in search.search(q, k=8)] for q in QUERIES}
        return {
            "documents": docs,
            "chunks": chunks,
            "store_counts": {path_of.get(k, k): n for k, n in engine.store.chunk_counts().items()},
            "store_total": engine.store.count(),
            "search": results,
        }


def _sanctum() -> str:
    return str(Path(sys.executable).with_name("sanctum"))


def _run_and_kill(folder: Path, env: dict[str, str], rng: random.Random) -> tuple[str, str]:
    """Start ``sanctum ingest``; SIGKILL it (and its parser worker) at a random moment.

    Returns when it was killed (a short description) or "finished" when it ended first.
    """
    proc = subprocess.Popen([_sanctum(), "ingest", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env, start_new_session=True)
    lines: list[str] = []
    new_file = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(("ingested", "failed")):
                new_file.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if rng.random() < 0.2:  # start-up, model loading, recovery of the previous kill
        wait_files, jitter = 0, rng.uniform(0.5, 8.0)
    else:  # in the middle of the work: after a few files, at a random moment of the next one
        wait_files, jitter = rng.randint(0, 2), rng.uniform(0.0, 1.5)
    deadline = time.monotonic() + 120
    seen = 0
    while seen < wait_files and proc.poll() is None and time.monotonic() < deadline:
        if new_file.wait(0.05):
            new_file.clear()
            seen += 1
    end = time.monotonic() + jitter
    while proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    if proc.poll() is not None:
        reader.join(5)
        return "finished", "".join(lines)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    reader.join(5)
    return f"killed after {seen} new files + {jitter:.2f} s", "".join(lines)


@pytest.mark.slow  # ~60 s: a process killed many times over
def test_random_sigkills_end_in_the_same_state_as_one_clean_run(
    tmp_path: Path, embedder: Embedder
) -> None:
    folder = tmp_path / "docs"
    files = _make_corpus(folder)
    reference_home = tmp_path / "reference"
    with Engine(reference_home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase) as engine:
        outcomes = engine.ingest_service().ingest([folder])
    assert [o.status for o in outcomes] == ["ingested"] * len(files), [(o.path.name, o.reason) for o in outcomes]

    killed_home = tmp_path / "killed"
    env = {**os.environ, "SANCTUM_HOME": str(killed_home)}
    rng = random.Random(int(os.environ.get("SANCTUM_KILL_SEED", "7")))
    log = []
    for _ in range(KILLS):
        log.append(_run_and_kill(folder, env, rng)[0])
    kills = sum(1 for w in log if w.startswith("killed"))
    assert kills >= KILLS * 2 // 3, f"too few runs were killed mid-way: {log}"

    final = subprocess.run([_sanctum(), "ingest", str(folder)], capture_output=True, text=True, env=env, timeout=600)
    assert final.returncode == 0, final.stdout + final.stderr
    # The interrupted runs must have made progress: the last run does not redo everything.
    assert final.stdout.count("unchanged") > 0, (log, final.stdout)

    expected, got = _state(reference_home, embedder), _state(killed_home, embedder)
    assert got["documents"] == expected["documents"], log
    assert got["chunks"] == expected["chunks"], log
    assert got["store_counts"] == expected["store_counts"]
    assert got["store_total"] == expected["store_total"] == sum(v[2] for v in expected["documents"].values())
    # Hybrid scores are z-scores over a candidate pool that Chroma's approximate (HNSW) search
    # draws; its graph depends on insertion order, so the pool's tail, and with it the scores'
    # last digits, can differ between a resumed and a clean run. The passages found must not.
    for query, want in expected["search"].items():
        have = got["search"][query]
        assert {c for c, _ in have[:3]} == {c for c, _ in want[:3]}, (query, have, want)
        scores = dict(want)
        for chunk, score in have:
            if chunk in scores:
                assert abs(score - scores[chunk]) < 0.05, (query, chunk, score, scores[chunk])
