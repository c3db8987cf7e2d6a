"""Start Sanctum's launcher in a process of its own, then probe what its guard and hardening allow.

Usage: python tests/hardening_runner.py REPORT.json SCENARIO PORT [UDP_PORT]

The guard cannot be removed once installed, so these probes run here and not inside pytest.
``sanctum config show`` runs first, through ``app.cli.main.main`` as for a user: that installs the
guard and hardens the process; the probes then try what a library, a proxy setting or a file
reader might try, and the report says what happened. The test process counts what reached its
loopback servers.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.request
from pathlib import Path


def _try(action: object) -> str:
    try:
        action()  # type: ignore[operator]
    except Exception as error:
        return type(error).__name__
    return "ok"


def launcher(port: int, udp_port: int) -> dict:
    import resource

    from app.core.privacy import netguard

    guard = netguard.current()
    assert guard is not None
    out: dict = {"env": {k: os.environ.get(k) for k in (
        "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "ANONYMIZED_TELEMETRY",
        "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "DO_NOT_TRACK")}}
    out["https_via_proxy"] = _try(lambda: urllib.request.urlopen("https://example.org/", timeout=5))
    out["http_via_proxy"] = _try(lambda: urllib.request.urlopen("http://example.org/", timeout=5))
    out["lookup_localhost"] = _try(lambda: socket.getaddrinfo("localhost", 80))
    out["lookup_name"] = _try(lambda: socket.getaddrinfo("example.org", 443))
    out["lookup_loopback_literal"] = _try(lambda: socket.getaddrinfo("127.0.0.1", 80))
    out["dns_stub_datagram"] = _try(
        lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"\x00" * 12, ("127.0.0.1", udp_port)))
    out["loopback_service"] = _try(lambda: socket.create_connection(("127.0.0.1", port), timeout=5).close())
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    out["own_listener"] = _try(lambda: socket.create_connection(listener.getsockname(), timeout=5).close())
    out["socketpair"] = _try(lambda: socket.socketpair())
    allow = getattr(guard, "allow", None)  # the hook for explicitly configured servers
    out["configured_server"] = _try(lambda: (allow("127.0.0.1", port), urllib.request.urlopen(  # type: ignore[misc]
        f"http://127.0.0.1:{port}/configured", timeout=5).read()))
    bus = os.environ.get("TEST_BUS_PORT")  # a D-Bus session bus on loopback TCP (DBUS_SESSION_BUS_ADDRESS)
    if bus:
        out["dbus_tcp"] = _try(lambda: socket.create_connection(("127.0.0.1", int(bus)), timeout=5).close())
    out["core_limit"] = list(resource.getrlimit(resource.RLIMIT_CORE))
    out["dumpable"] = _dumpable()
    mask = os.umask(0)
    os.umask(mask)
    out["umask"] = mask
    out["attempts"] = [f"{a.event} {a.target}" for a in guard.attempts]
    return out


def worker(port: int) -> dict:
    from app.core.ingest.parse_pool import ParserPool
    from app.core.privacy import netguard
    from tests.worker_probe import probe

    guard = netguard.current()
    assert guard is not None
    pool = ParserPool(timeout_s=60)
    try:
        # Through the pool's own worker process (pebble's submit: function, timeout, *args).
        result = pool._pool.submit(probe, None, port).result()
        proc = Path(f"/proc/{result['pid']}")
        limits = (proc / "limits").read_text() if proc.exists() else ""
        deadline = time.monotonic() + 10
        while guard.attempt_count < 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # the relay thread hands the worker's refusals over
        time.sleep(0.5)  # and nothing more arrives
    finally:
        pool.close()
    core = [line for line in limits.splitlines() if line.startswith("Max core file size")]
    return {"probe": result, "worker_core_limit": core[0].split()[4:6] if core else None,
            "attempts": [f"{a.event} {a.target}" for a in guard.attempts]}


def _dumpable() -> bool | None:
    """prctl(PR_GET_DUMPABLE) of this process, asked directly (Linux); None elsewhere."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    return bool(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))


def main() -> int:
    report, scenario, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    from app.cli.main import main as sanctum

    code = sanctum(["config", "show"])
    out = launcher(port, int(sys.argv[4])) if scenario == "launcher" else worker(port)
    out["exit"] = code
    with open(report, "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())

