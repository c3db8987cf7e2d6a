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


@pytest.mark.slow  # ~23 s each: the real program, ingest, ask and window
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
    assert report["guard_active"] is True
    assert report["attempts"] == []
    proc, report = _run(tmp_path, home, "ask", "Who is the on-call radiologist on Saturday?", "--json", isolate=isolate)
    assert proc.returncode == 0, proc.stderr
    assert report["guard_active"] is True
    assert report["attempts"] == []
    answer = json.loads(proc.stdout)
    assert "Maas" in answer["answer"]
    assert answer["citations"][0]["page"] == 2
    shot = tmp_path / "window.png"
    proc, report = _run(tmp_path, home, "gui", "--quit-after", "4", "--screenshot", str(shot), isolate=isolate)
    assert proc.returncode == 0, proc.stderr
    assert report["guard_active"] is True
    assert report["attempts"] == []
    assert shot.stat().st_size > 1000


GUARD_PROBE = r"""
import json, socket, sys, threading, urllib.request
from app.core.privacy import netguard
assert netguard.current() is None
guard = netguard.install()
assert netguard.install() is guard
out = {"active": guard.active, "errors": []}
for attempt in (lambda: urllib.request.urlopen("http://example.org/", timeout=5),
                lambda: socket.socket().connect(("10.1.2.3", 443)),
                lambda: socket.getaddrinfo("huggingface.co", 443),
                lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x", ("2001:db8::1", 53))):
    try:
        attempt()
        out["errors"].append(None)
    except OSError as exc:
        out["errors"].append(type(exc).__name__)
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
threading.Thread(target=lambda: server.accept()[0].sendall(b"hi"), daemon=True).start()
with socket.create_connection(server.getsockname(), timeout=5) as client:
    out["loopback"] = client.recv(2).decode()
a, b = socket.socketpair(socket.AF_UNIX)
a.sendall(b"ok")
out["unix"] = b.recv(2).decode()
out["attempts"] = [(x.event, x.target) for x in guard.attempts]
print(json.dumps(out))
"""


def test_the_guard_refuses_and_records_every_outbound_attempt_but_allows_loopback() -> None:
    proc = subprocess.run([sys.executable, "-c", GUARD_PROBE], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(RUNNER.parents[1])})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["active"] is True
    assert out["errors"] == ["URLError", "NetworkBlocked", "NetworkBlocked", "NetworkBlocked"]
    assert out["loopback"] == "hi" and out["unix"] == "ok"
    events = [event for event, _ in out["attempts"]]
    assert events == ["socket.getaddrinfo", "socket.connect", "socket.getaddrinfo", "socket.sendto"]
    assert out["attempts"][0][1].startswith("example.org") and out["attempts"][1][1] == "10.1.2.3:443"


def test_importing_the_app_installs_no_guard() -> None:
    code = "import app.cli.main, app.core.engine, app.core.privacy.netguard as g; print(g.current() is None)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(RUNNER.parents[1])})
    assert proc.stdout.strip() == "True", proc.stderr
