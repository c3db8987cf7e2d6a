"""Run the ``sanctum`` command with every network attempt recorded and refused.

Usage: python tests/offline_runner.py REPORT.json SANCTUM-ARGS...

A Python audit hook sees each socket connect/sendto/getaddrinfo made by any library (C
extensions that use Python sockets included) before it happens; Unix-domain sockets (local IPC)
are allowed, anything else is recorded and refused. The tests also run this inside a network
namespace with no network at all (``unshare -n``), which catches native code that bypasses
Python's sockets.
"""

from __future__ import annotations

import json
import socket
import sys

attempts: list[str] = []


def _hook(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock = args[0]
        if getattr(sock, "family", None) == socket.AF_UNIX:
            return
        attempts.append(f"{event} {args[1:]!r}")
        raise OSError("network access is blocked in this test")
    if event == "socket.getaddrinfo":
        attempts.append(f"{event} {args[:2]!r}")
        raise OSError("name resolution is blocked in this test")


def main() -> int:
    report, argv = sys.argv[1], sys.argv[2:]
    sys.addaudithook(_hook)
    from app.cli import main as sanctum

    code = 1
    try:
        code = sanctum(argv)
    finally:
        with open(report, "w", encoding="utf-8") as fh:
            json.dump({"exit": code, "attempts": attempts}, fh)
    return code


if __name__ == "__main__":
    sys.exit(main())
