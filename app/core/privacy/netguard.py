"""The network guard: once installed, this process connects to nothing but itself.

The launcher (``sanctum`` and the desktop app, through :func:`app.cli.main`) calls :func:`install`
first thing; nothing happens at import. From then on every outbound connection, datagram and name
lookup is refused and recorded, except loopback addresses and local (Unix-domain, netlink) sockets,
which the keyring's D-Bus connection and local IPC use.

Why a :func:`sys.addaudithook` hook rather than patching :mod:`socket`: the audit events are raised
inside CPython's own ``_socket`` C code, so every Python-level user (urllib3, httpx, asyncio,
huggingface_hub, telemetry clients) passes through it, including code that kept a reference to the
original functions before we started; nothing is monkeypatched; and an audit hook cannot be removed,
so no library can switch the guard off again. What it cannot see is native code that opens sockets
without Python (C/C++/Rust inside an extension): the test suite runs the whole flow inside a network
namespace with no network at all (``unshare -n``) to cover that.

The status bar reads :func:`current` (``guard.active``, ``guard.attempt_count``) and shows
"Offline" only while the guard is in force.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_LOCAL_FAMILIES = {getattr(socket, name) for name in ("AF_UNIX", "AF_NETLINK") if hasattr(socket, name)}
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
            "socket.getnameinfo"}
_SENDS = {"socket.connect", "socket.sendto", "socket.sendmsg"}
_SELF_TEST_TARGET = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): never routed, even if the guard failed


class NetworkBlocked(ConnectionRefusedError):
    """Raised to a caller that tried to reach the network while the guard is in force."""


@dataclass(frozen=True)
class Attempt:
    """One refused attempt.

    Attributes:
        time: When (``time.time()``).
        event: The audit event ("socket.connect", "socket.getaddrinfo" …).
        target: Where it tried to go (host and port, or the name looked up).
    """

    time: float
    event: str
    target: str


def _is_loopback(host: object) -> bool:
    if host is None or host == "" or host == b"":
        return True  # a lookup of "no host" means this machine (bind/listen helpers)
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class NetGuard:
    """Refuses and records outbound network use in this process (one per process: see :func:`install`)."""

    def __init__(self) -> None:
        self._attempts: list[Attempt] = []
        self._listeners: list[Callable[[Attempt], None]] = []
        self._lock = threading.Lock()
        self._installed = False
        self._proven = False
        self._testing = threading.local()
        self._servers: dict[tuple[str, int], set[str]] = {}  # (host, port) typed by the user -> its addresses
        self._change_listeners: list[Callable[[], None]] = []

    @property
    def active(self) -> bool:
        """True while the guard is in force: installed, and seen refusing a connection."""
        return self._installed and self._proven

    @property
    def attempts(self) -> list[Attempt]:
        """Every refused attempt so far, oldest first (a copy)."""
        with self._lock:
            return list(self._attempts)

    @property
    def attempt_count(self) -> int:
        with self._lock:
            return len(self._attempts)

    def subscribe(self, callback: Callable[[Attempt], None]) -> None:
        """Call ``callback(attempt)`` after each refused attempt (from the thread that made it)."""
        with self._lock:
            self._listeners.append(callback)

    # -- configured servers (team mode) -----------------------------------------------------

    @property
    def servers(self) -> list[tuple[str, int]]:
        """The servers the user configured, as (host, port), in the order they were allowed."""
        with self._lock:
            return list(self._servers)

    def allow_server(self, host: str, port: int) -> None:
        """Let this process reach exactly ``host:port`` (a team server the user typed), nothing more.

        The name is looked up once, now (that lookup, and later ones of the same name, pass);
        connections pass only to the addresses it resolved to, on that port.
        """
        name = host.strip("[]").lower()
        with self._lock:
            self._servers[(name, port)] = set()
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except OSError:
            infos = []
        with self._lock:
            self._servers[(name, port)] = {str(info[4][0]).split("%", 1)[0] for info in infos} | {name}
        self._changed()

    def forget_server(self, host: str, port: int) -> None:
        """Stop allowing ``host:port`` (the user went back to the local model)."""
        with self._lock:
            removed = self._servers.pop((host.strip("[]").lower(), port), None)
        if removed is not None:
            self._changed()

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when the allowed servers change (from the thread that changed them)."""
        with self._lock:
            self._change_listeners.append(callback)

    def _changed(self) -> None:
        with self._lock:
            listeners = list(self._change_listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener()

    def _is_allowed_server(self, host: object, port: object | None) -> bool:
        if not self._servers:
            return False
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if not isinstance(host, str):
            return False
        name = host.strip("[]").split("%", 1)[0].lower()
        with self._lock:
            for (server, server_port), addresses in self._servers.items():
                if port is None and name == server:
                    return True  # the name lookup of a configured server
                if port == server_port and name in addresses:
                    return True
        return False

    # -- the hook ---------------------------------------------------------------------------

    def _hook(self, event: str, args: tuple[object, ...]) -> None:
        if not event.startswith("socket."):
            return  # the fast path: every other audited event in the process
        if event in _SENDS:
            sock, address = args[0], args[1] if len(args) > 1 else None
            if address is None or getattr(sock, "family", None) in _LOCAL_FAMILIES:
                return  # a connected socket's send, or local IPC
            host = address[0] if isinstance(address, tuple) and address else address
            if _is_loopback(host):
                return
            port = address[1] if isinstance(address, tuple) and len(address) > 1 else None
            if port is not None and self._is_allowed_server(host, port):
                return
            self._refuse(event, _describe(address))
        elif event in _LOOKUPS:
            target = args[0] if args else None
            host = target[0] if isinstance(target, tuple) and target else target
            if _is_loopback(host) or self._is_allowed_server(host, None):
                return
            self._refuse(event, _describe(target))

    def _refuse(self, event: str, target: str) -> None:
        if getattr(self._testing, "on", False):
            raise NetworkBlocked("self-test")
        attempt = Attempt(time=time.time(), event=event, target=target)
        with self._lock:
            self._attempts.append(attempt)
            listeners = list(self._listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):  # a broken listener must never open the door
                listener(attempt)
        raise NetworkBlocked(f"Sanctum works offline: the connection to {target} was blocked")

    def _install(self) -> None:
        sys.addaudithook(self._hook)
        self._installed = True
        self._proven = self._self_test()

    def _self_test(self) -> bool:
        """Try to reach an unroutable address; the guard is proven only if it refused."""
        self._testing.on = True
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setblocking(False)
                probe.connect(_SELF_TEST_TARGET)
        except NetworkBlocked:
            return True
        except OSError:
            return False  # it reached the kernel: the hook is not working
        finally:
            self._testing.on = False
        return False


def _describe(target: object) -> str:
    if isinstance(target, tuple) and len(target) >= 2:
        return f"{target[0]}:{target[1]}"
    if isinstance(target, bytes):
        return target.decode("ascii", "replace")
    return str(target)


_guard: NetGuard | None = None
_install_lock = threading.Lock()


def install() -> NetGuard:
    """Install the process's guard (idempotent) and return it. Call from the launcher, never at import."""
    global _guard
    with _install_lock:
        if _guard is None:
            guard = NetGuard()
            guard._install()
            _guard = guard
        return _guard


def current() -> NetGuard | None:
    """The guard if :func:`install` was called in this process, else None (then the app is not offline)."""
    return _guard
