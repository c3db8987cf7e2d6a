"""The network guard: once installed, this process connects to nothing but itself.

The launcher (``sanctum`` and the desktop app, through :func:`app.cli.main`) and every worker
process (the parser pool) call :func:`install` first thing; nothing happens at import. From then on
every outbound connection, datagram and name lookup is refused and recorded. What stays allowed:

- local (Unix-domain, netlink) sockets: the keyring's D-Bus connection and our own IPC use them;
- loopback connections to a socket this process itself is listening on (``socket.socketpair`` is
  built that way on Windows);
- the D-Bus session or system bus when its address is ``tcp:`` on loopback;
- servers the user configured explicitly, through :meth:`NetGuard.allow` (``host``, ``port``).

Loopback is not trusted as such: a proxy on ``127.0.0.1`` (``HTTPS_PROXY``), the local DNS stub
(``127.0.0.53``) or any local service would otherwise carry a connection off the machine. Name
lookups are refused too, even for ``localhost``: only literal loopback addresses pass. Installing
also removes proxy variables from the process's environment and forces the telemetry and exporter
switches of the libraries we load off (:data:`FORCED_ENV`), whatever the user's environment said.

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
import os
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_LOCAL_FAMILIES = {getattr(socket, name) for name in ("AF_UNIX", "AF_NETLINK") if hasattr(socket, name)}
_LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
            "socket.getnameinfo"}
_SENDS = {"socket.connect", "socket.sendto", "socket.sendmsg"}
_SELF_TEST_TARGET = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): never routed, even if the guard failed

#: Proxy variables removed from the process's environment (any case): a proxy on loopback would
#: carry every request of a library that honours them off the machine.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "socks_proxy", "ws_proxy", "wss_proxy")
#: Telemetry and exporter switches, forced (not defaulted): a user's or an IT department's
#: environment must not turn them back on for Sanctum.
FORCED_ENV = {
    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "DO_NOT_TRACK": "1",
}
#: Variables that point an exporter somewhere: removed.
_REMOVED_PREFIXES = ("OTEL_EXPORTER_", "CHROMA_OTEL_")


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
        self._allowed: set[tuple[str, int]] = set()
        self._allowed_names: set[str] = set()
        self._listening: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def allow(self, host: str, port: int) -> None:
        """Let this process connect to ``host:port`` (a literal IP address): a server the user configured.

        The hook for explicitly configured servers (a local model server, say): nothing in
        Sanctum calls it unless the user chose such a server in the settings. Names are refused,
        because name lookups are refused.

        Raises:
            ValueError: ``host`` is not a literal IP address, or ``port`` is not a port.
        """
        address = str(ipaddress.ip_address(host.strip("[]")))
        if not 0 < int(port) < 65536:
            raise ValueError(f"not a port: {port}")
        with self._lock:
            self._allowed.add((address, int(port)))

    def note(self, attempt: Attempt) -> None:
        """Record an attempt refused elsewhere (a worker process's guard), so the count is the whole app's."""
        with self._lock:
            self._attempts.append(attempt)
            listeners = list(self._listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener(attempt)

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
            if self._permitted(address):
                return
            host = address[0] if isinstance(address, tuple) and address else address
            port = address[1] if isinstance(address, tuple) and len(address) > 1 else None
            if port is not None and self._is_allowed_server(host, port):
                return
            self._refuse(event, _describe(address))
        elif event in _LOOKUPS:
            target = args[0] if args else None
            host = target[0] if isinstance(target, tuple) and target else target
            if (_is_loopback(host) or self._is_allowed_server(host, None)
                    or (isinstance(host, str) and host.lower() in self._allowed_names)):
                return
            self._refuse(event, _describe(target))
        elif event == "socket.bind" and args and getattr(args[0], "family", None) not in _LOCAL_FAMILIES:
            with contextlib.suppress(TypeError):
                self._listening.add(args[0])  # type: ignore[arg-type]

    def _permitted(self, address: object) -> bool:
        """A loopback address we listen on ourselves, the D-Bus bus, or a configured server."""
        if not (isinstance(address, tuple) and len(address) >= 2):
            return False
        host, port = address[0], address[1]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if not isinstance(host, str):
            return False
        try:
            literal = str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
        except ValueError:
            return False
        with self._lock:
            if (literal, port) in self._allowed:
                return True
        if not ipaddress.ip_address(literal).is_loopback:
            return False
        for sock in list(self._listening):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if sock.getsockname()[1] == port:
                    return True
        return False

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

    def _install(self, allow: Iterable[tuple[str, int]] = ()) -> None:
        _scrub_environment()
        for host, port in allow:
            self.allow(host, port)
        for host, port in _dbus_tcp_addresses():
            if _is_literal(host):
                self.allow(host, port)
            else:  # "localhost": its lookup, and where it leads, stay allowed for the bus
                self._allowed_names.add(host.lower())
                self.allow("127.0.0.1", port)
                self.allow("::1", port)
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


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _scrub_environment() -> None:
    """Remove proxy and exporter variables from this process's environment; force telemetry off."""
    for name in list(os.environ):
        if name.lower() in PROXY_VARIABLES or name.startswith(_REMOVED_PREFIXES):
            del os.environ[name]
    os.environ.update(FORCED_ENV)


def _dbus_tcp_addresses() -> list[tuple[str, int]]:
    """The D-Bus buses reached over TCP (``tcp:host=127.0.0.1,port=N``); usually none (Unix sockets)."""
    found = []
    for variable in ("DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS"):
        for entry in os.environ.get(variable, "").split(";"):
            transport, _, params = entry.partition(":")
            if transport not in ("tcp", "nonce-tcp"):
                continue
            fields = dict(part.partition("=")[::2] for part in params.split(","))
            host, port = fields.get("host", ""), fields.get("port", "")
            if host and port.isdigit() and (_is_loopback(host) or host.lower() == "localhost"):
                found.append((host, int(port)))
    return found


def _describe(target: object) -> str:
    if isinstance(target, tuple) and len(target) >= 2:
        return f"{target[0]}:{target[1]}"
    if isinstance(target, bytes):
        return target.decode("ascii", "replace")
    return str(target)


_guard: NetGuard | None = None
_install_lock = threading.Lock()


def install(*, allow: Iterable[tuple[str, int]] = ()) -> NetGuard:
    """Install the process's guard (idempotent) and return it. Call from the launcher, never at import.

    Args:
        allow: Servers the user configured explicitly, as (literal IP address, port) pairs; more
            can be added later with :meth:`NetGuard.allow`.
    """
    global _guard
    with _install_lock:
        if _guard is None:
            guard = NetGuard()
            guard._install(allow)
            _guard = guard
        else:
            for host, port in allow:
                _guard.allow(host, port)
        return _guard


def current() -> NetGuard | None:
    """The guard if :func:`install` was called in this process, else None (then the app is not offline)."""
    return _guard
