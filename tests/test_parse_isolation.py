"""Each file is parsed in a worker process under a time limit: a file that is too slow or a worker
that dies costs that one file, with a reason, and the rest of the batch is ingested."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.ingest.service import IngestProgress
from app.core.models.embedder import Embedder
from tests import docmaker
from tests.conftest import SHARED_DATA, typed_passphrase

BIG_PDF = SHARED_DATA / "ingestion" / "unstructured" / "example-docs" / "pdf" / "DA-619p.pdf"
needs_big_pdf = pytest.mark.skipif(not BIG_PDF.exists(),
                                   reason=f"{BIG_PDF} (../shared/data) is not beside the checkout")


def _batch(tmp_path: Path) -> tuple[Path, Path, Path]:
    first = docmaker.make_text(tmp_path / "a-first.txt", "The crash trolley is checked every morning at 07:30.")
    big = tmp_path / "b-big.pdf"
    shutil.copyfile(BIG_PDF, big)
    last = docmaker.make_pdf(tmp_path / "c-last.pdf", ["Blood glucose meters are calibrated on Mondays."])
    return first, big, last


@needs_big_pdf
def test_a_file_that_takes_too_long_times_out_and_the_batch_goes_on(
    home: Path, tmp_path: Path, embedder: Embedder
) -> None:
    first, big, last = _batch(tmp_path)
    settings = Settings(parse_timeout_s=0.5)  # the 619-page PDF needs several seconds
    with Engine(home, settings=settings, embedder=embedder, passphrase=typed_passphrase) as engine:
        outcomes = {o.path.name: o for o in engine.ingest_service().ingest([first, big, last])}
        assert outcomes["b-big.pdf"].status == "failed"
        assert outcomes["b-big.pdf"].reason.startswith("timed out after 0.5 s"), outcomes["b-big.pdf"].reason
        assert outcomes["a-first.txt"].status == outcomes["c-last.pdf"].status == "ingested"
        assert engine.library.get(big).error == outcomes["b-big.pdf"].reason
        best = engine.search_service().search("When are glucose meters calibrated?", k=1)[0]
        assert Path(best.path).name == "c-last.pdf"


def _parser_workers() -> list[int]:
    """Pids of this process's spawned parser workers (children running multiprocessing's spawn_main)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me and b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(entry.name))
    return found


@needs_big_pdf
def test_a_worker_that_dies_costs_one_file_and_the_batch_goes_on(
    home: Path, tmp_path: Path, embedder: Embedder
) -> None:
    first, big, last = _batch(tmp_path)
    killed: list[int] = []

    def kill_worker_soon() -> None:
        time.sleep(0.5)  # it is now inside the 619-page PDF
        for pid in _parser_workers():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    def progress(p: IngestProgress) -> None:
        if p.stage == "reading" and p.current == big.resolve() and not killed:
            threading.Thread(target=kill_worker_soon).start()

    with Engine(home, settings=Settings(parse_timeout_s=120), embedder=embedder, passphrase=typed_passphrase) as engine:
        outcomes = {o.path.name: o for o in engine.ingest_service().ingest([first, big, last], progress=progress)}
        assert killed, "no parser worker was found to kill"
        assert outcomes["b-big.pdf"].status == "failed"
        assert outcomes["b-big.pdf"].reason == (
            "the reader was stopped by SIGKILL while reading this file; it may be too large for the memory available"
        )
        assert outcomes["a-first.txt"].status == outcomes["c-last.pdf"].status == "ingested"
        assert {d.name for d in engine.library.all("ready")} == {"a-first.txt", "c-last.pdf"}


def test_malformed_pdf_names_the_problem(home: Path, tmp_path: Path, embedder: Embedder) -> None:
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n garbage without xref")
    good = docmaker.make_text(tmp_path / "ok.txt", "Visiting hours end at 20:00.")
    with Engine(home, settings=Settings(), embedder=embedder, passphrase=typed_passphrase) as engine:
        outcomes = {o.path.name: o for o in engine.ingest_service().ingest([broken, good])}
    assert outcomes["scan.pdf"].status == "failed"
    assert outcomes["scan.pdf"].reason.startswith("malformed PDF: "), outcomes["scan.pdf"].reason
    assert outcomes["ok.txt"].status == "ingested"
