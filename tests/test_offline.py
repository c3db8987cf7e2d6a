"""The whole flow (setup aside) makes no network connection, and works with no network at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import docmaker

RUNNER = Path(__file__).with_name("offline_runner.py")


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0


def _run(tmp_path: Path, home: Path, *args: str, isolate: bool) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / f"report-{args[0]}.json"
    prefix = ["unshare", "-n"] if isolate else []
    env = {**os.environ, "SANCTUM_HOME": str(home), "PYTHONPATH": str(RUNNER.parents[1])}
    proc = subprocess.run([*prefix, sys.executable, str(RUNNER), str(report), *args],
                          capture_output=True, text=True, timeout=600, env=env)
    return proc, json.loads(report.read_text())


@pytest.mark.parametrize("isolate", [False, True], ids=["socket-guard", "no-network-namespace"])
def test_ingest_ask_and_window_make_no_connection(tmp_path: Path, home: Path, isolate: bool) -> None:
    if isolate and not _can_unshare():
        pytest.fail("`unshare -n` is not available: run the tests as root (CI does) to prove airplane mode")
    docs = tmp_path / "docs"
    docs.mkdir()
    docmaker.make_pdf(docs / "oncall.pdf", ["Rota.", "The on-call radiologist on Saturday is Dr. Pieter Maas."])
    docmaker.make_eml(docs / "note.eml", "Parking", "Staff parking moves to level -2 from Monday.")
    proc, report = _run(tmp_path, home, "ingest", str(docs), isolate=isolate)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["attempts"] == []
    proc, report = _run(tmp_path, home, "ask", "Who is the on-call radiologist on Saturday?", "--json", isolate=isolate)
    assert proc.returncode == 0, proc.stderr
    assert report["attempts"] == []
    answer = json.loads(proc.stdout)
    assert "Maas" in answer["answer"]
    assert answer["citations"][0]["page"] == 2
    shot = tmp_path / "window.png"
    proc, report = _run(tmp_path, home, "gui", "--quit-after", "4", "--screenshot", str(shot), isolate=isolate)
    assert proc.returncode == 0, proc.stderr
    assert report["attempts"] == []
    assert shot.stat().st_size > 1000
