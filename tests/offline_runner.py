"""Run the ``sanctum`` command and report what its network guard saw.

Usage: python tests/offline_runner.py REPORT.json SANCTUM-ARGS...

The guard is the app's own (:mod:`app.core.privacy.netguard`), installed by ``app.cli.main`` at start-up as
for a user; this runner only reads it afterwards: whether it was in force and every attempt it
refused. The tests also run this inside a network namespace with no network at all
(``unshare -n``), which catches native code that bypasses Python's sockets.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    report, argv = sys.argv[1], sys.argv[2:]
    from app.cli.main import main as sanctum
    from app.core.privacy import netguard

    code = 1
    try:
        code = sanctum(argv)
    finally:
        guard = netguard.current()
        with open(report, "w", encoding="utf-8") as fh:
            json.dump({"exit": code, "guard_active": bool(guard and guard.active),
                       "attempts": [f"{a.event} {a.target}" for a in (guard.attempts if guard else [])]}, fh)
    return code


if __name__ == "__main__":
    sys.exit(main())
