"""Nothing leaves the computer: not through a proxy or loopback service, not from the file reader
(the parser worker) and not from the programs it starts (LibreOffice, Tesseract).

Hostile documents point at a server on 127.0.0.1 that counts every request it gets; the guard's
own count must tell the truth about what was tried.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import hostile
from tests.conftest import REPO

RUNNER = Path(__file__).with_name("hardening_runner.py")
OFFLINE_RUNNER = Path(__file__).with_name("offline_runner.py")


def _run(tmp_path: Path, home: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    report = tmp_path / f"report-{args[0]}.json"
    proc = subprocess.run([sys.executable, str(RUNNER), str(report), *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "SANCTUM_HOME": str(home), "PYTHONPATH": str(REPO),
                                            **(env or {})})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(report.read_text())


def test_a_proxy_or_a_service_on_loopback_does_not_carry_anything_out(tmp_path: Path, home: Path) -> None:
    proxy_env = {name: "http://127.0.0.1:{port}" for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                                                                   "http_proxy", "ALL_PROXY")}
    telemetry_on = {"ANONYMIZED_TELEMETRY": "True", "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
                    "HF_HUB_DISABLE_TELEMETRY": "0", "OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp",
                    "DO_NOT_TRACK": "0"}
    with hostile.CountingServer() as server, hostile.CountingUdp() as dns_stub, hostile.CountingServer() as bus:
        env = {k: v.format(port=server.port) for k, v in proxy_env.items()}
        env.update(telemetry_on, OTEL_EXPORTER_OTLP_ENDPOINT=server.url("otlp"), TEST_BUS_PORT=str(bus.port),
                   DBUS_SESSION_BUS_ADDRESS=f"tcp:host=127.0.0.1,port={bus.port},family=ipv4")
        out = _run(tmp_path, home, "launcher", str(server.port), str(dns_stub.port), env=env)
        reached = list(server.requests)
        datagrams = dns_stub.datagrams
    # The proxy variables are gone and the requests through them never reached the "proxy".
    assert all(out["env"][name] is None for name in proxy_env), out["env"]
    assert out["https_via_proxy"] != "ok" and out["http_via_proxy"] != "ok"
    # Name lookups are refused, "localhost" too; a literal loopback address is not a lookup.
    assert out["lookup_localhost"] == "NetworkBlocked"
    assert out["lookup_name"] == "NetworkBlocked"
    assert out["lookup_loopback_literal"] == "ok"
    # Loopback is not trusted as such: a local DNS stub or service is refused...
    assert out["dns_stub_datagram"] == "NetworkBlocked"
    assert out["loopback_service"] == "NetworkBlocked"
    # ...but the process's own sockets and an explicitly configured server work.
    assert out["own_listener"] == "ok" and out["socketpair"] == "ok"
    assert out["configured_server"] == "ok"
    assert out["dbus_tcp"] == "ok"  # the keyring's bus, where it is on loopback TCP (usually a Unix socket)
    assert reached == ["GET /configured"], reached  # the only request that arrived: the allowed one
    assert datagrams == 0
    # Telemetry and exporters are forced off whatever the environment said.
    assert out["env"]["ANONYMIZED_TELEMETRY"] == "False"
    assert out["env"]["HF_HUB_OFFLINE"] == "1" and out["env"]["TRANSFORMERS_OFFLINE"] == "1"
    assert out["env"]["HF_HUB_DISABLE_TELEMETRY"] == "1" and out["env"]["DO_NOT_TRACK"] == "1"
    assert out["env"]["OTEL_SDK_DISABLED"] == "true" and out["env"]["OTEL_TRACES_EXPORTER"] == "none"
    assert out["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] is None
    # No core dump keeps the data key: core size 0 and not dumpable; files it creates are private.
    assert out["core_limit"] == [0, 0]
    if sys.platform.startswith("linux"):
        assert out["dumpable"] is False
    assert out["umask"] == 0o077
    # The count is honest: every refusal above is in it, nothing else.
    events = [a.split()[0] for a in out["attempts"]]
    assert events.count("socket.getaddrinfo") >= 2  # localhost, example.org (urllib's lookups too)
    assert f"socket.sendto 127.0.0.1:{dns_stub.port}" in out["attempts"]
    assert f"socket.connect 127.0.0.1:{server.port}" in out["attempts"]


def test_the_file_reader_is_guarded_and_its_refusals_are_counted_by_the_app(tmp_path: Path, home: Path) -> None:
    with hostile.CountingServer() as server:
        out = _run(tmp_path, home, "worker", str(server.port))
        reached = list(server.requests)
    probe = out["probe"]
    assert probe["guard_active"] is True
    assert probe["connect"] == "NetworkBlocked"
    assert reached == []
    # The app's guard (the status bar's count) knows about the worker's refused attempt: exactly one.
    assert out["attempts"] == [f"socket.connect 127.0.0.1:{server.port} (from the file reader)"]
    assert probe["proxies"] == []
    # The worker is expected to crash on hostile files: no core dump may keep what it was reading.
    assert probe["core_limit"] == [0, 0]
    if sys.platform.startswith("linux"):
        assert out["worker_core_limit"] == ["0", "0"]  # /proc/<worker pid>/limits, read from outside
        assert probe["dumpable"] is False
    assert probe["umask"] == 0o077


@pytest.mark.slow
def test_documents_that_link_to_a_server_are_ingested_without_a_single_request(
    tmp_path: Path, home: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    with hostile.CountingServer() as server:
        hostile.make_linking_docx(docs / "linked.docx", server)
        hostile.make_linking_odt(docs / "linked.odt", server)
        hostile.make_linking_html(docs / "linked.html", server)
        hostile.make_linking_eml(docs / "linked.eml", server)
        hostile.make_linking_doc(docs / "legacy.doc", server)
        log = hostile.install_fake_soffice(tmp_path / "bin", "Canary doc: the crash cart is sealed after each check.")
        report = tmp_path / "report.json"
        env = {**os.environ, "SANCTUM_HOME": str(home), "PYTHONPATH": str(REPO),
               "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
               "SANCTUM_PASSPHRASE": "a-secret-the-converter-must-not-see",
               "HTTPS_PROXY": server.url(""), "HTTP_PROXY": server.url("")}
        proc = subprocess.run([sys.executable, str(OFFLINE_RUNNER), str(report), "ingest", str(docs), "--json"],
                              capture_output=True, text=True, timeout=600, env=env)
        reached = list(server.requests)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcomes = {Path(o["path"]).name: o for o in json.loads(proc.stdout)}
    for name in ("linked.docx", "linked.odt", "linked.html", "linked.eml", "legacy.doc"):
        assert outcomes[name]["status"] == "ingested", outcomes[name]
    assert reached == [], reached
    guard = json.loads(report.read_text())
    assert guard["guard_active"] is True
    assert guard["attempts"] == []  # no Python parser tried: the honest count is zero
    # LibreOffice (here its stand-in) tried to follow the INCLUDEPICTURE field and could not reach anything.
    (call,) = hostile.calls(log)
    assert call["fetched"] != "reached the server"
    leaked = {k for k in call["env"] if k.lower().endswith("_proxy") or k.startswith(("DBUS_", "SANCTUM_"))}
    assert leaked == set(), leaked
    assert "a-secret-the-converter-must-not-see" not in json.dumps(call["env"])
    private = Path(call["profile"].removeprefix("file://")).parent
    assert private.name.startswith("sanctum-convert-")
    assert call["env"]["HOME"].startswith(str(private)) and call["env"]["TMPDIR"].startswith(str(private))
    if sys.platform.startswith("linux") and Path("/dev/shm").is_dir():
        assert str(private).startswith("/dev/shm/"), private  # in memory, not on disk
    assert '<prop oor:name="Link" oor:op="fuse"><value>0</value>' in call["profile_settings"]  # never update links
    assert not private.exists()  # removed when the conversion ended
