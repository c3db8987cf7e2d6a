"""Run inside the parser pool's worker process: what does a file reader there see and may it do?"""

from __future__ import annotations


def probe(port: int | None = None) -> dict:
    """The worker's guard, core-dump settings, umask and environment; with ``port``, try to reach it."""
    import os
    import resource
    import urllib.request

    from app.core.privacy import netguard

    guard = netguard.current()
    mask = os.umask(0)
    os.umask(mask)
    out = {"pid": os.getpid(), "guard_active": bool(guard and guard.active),
           "core_limit": list(resource.getrlimit(resource.RLIMIT_CORE)), "dumpable": _dumpable(), "umask": mask,
           "proxies": sorted(k for k in os.environ if k.lower().endswith("_proxy"))}
    if port is not None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/from-the-file-reader", timeout=5).read()
            out["connect"] = "reached the server"
        except Exception as error:
            out["connect"] = type(getattr(error, "reason", error)).__name__  # urllib wraps it in URLError
    return out


def _dumpable() -> bool | None:
    """prctl(PR_GET_DUMPABLE) of this process, asked directly (Linux); None elsewhere."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    return bool(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))


def peak_rss_kib() -> int:
    """The worker's peak resident memory so far (KiB on Linux)."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
