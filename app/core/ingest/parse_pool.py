"""Parse files in a separate process, with a time and memory limit per file.

A hostile file (a PDF that loops, a spreadsheet that explodes in memory, a parser that
segfaults) must cost one failed file, never the app. ``pebble.ProcessPool`` gives per-task
timeouts that kill and replace the worker, and reports a dead worker as ``ProcessExpired``; we
turn every way of failing into a :class:`~app.core.errors.ParseError` with a reason.

The worker is started with ``spawn`` so it does not inherit the parent's threads and loaded
models, and it only imports the parsers. Before it reads a file it is hardened as the app is:
the network guard is installed (every attempt it refuses is sent to the app's guard, so the
status bar's count covers the worker too), core dumps are off and it is not dumpable, and
conversion folders left by a worker that was killed are swept.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.queues
import signal
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TypeAlias

from app.core.errors import ParseError, ParseTimeout
from app.core.ingest.parsers.base import ParsedDocument

#: Carries the worker's refused network attempts (time, event, target) to this process; None ends it.
_AttemptQueue: TypeAlias = "multiprocessing.queues.SimpleQueue[tuple[float, str, str] | None]"


def _init_worker(limit_bytes: int, attempts: _AttemptQueue | None = None) -> None:
    """Worker initializer: guard and harden the process, load the parsers, then cap the address space.

    The parsers are imported here, before any file is handed over, so the per-file time limit
    measures reading the file, not importing the libraries (which a busy machine can make slow).
    A runaway parse then fails with MemoryError instead of swapping the machine to a halt.
    """
    from app.core.ingest.parsers import legacy
    from app.core.privacy import netguard
    from app.core.privacy.hardening import harden_process

    guard = netguard.install()
    if attempts is not None:
        guard.subscribe(lambda attempt: attempts.put((attempt.time, attempt.event, attempt.target)))
    harden_process()
    legacy.sweep_conversion_folders()
    import app.core.ingest.parsers  # noqa: F401

    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    except (ImportError, ValueError, OSError):
        pass  # Not on this platform: the time limit still applies.


def _parse(path: str, password: str | None) -> ParsedDocument:
    from app.core.ingest.parsers import parse

    return parse(Path(path), password=password)


class ParserPool:
    """One worker process that parses files in order, each under a time and memory limit.

    Thread rule: any thread may submit (pebble's pool is thread-safe); files are parsed one at a
    time in the order submitted. The engine keeps one for the process.

    Args:
        timeout_s: Seconds one file may take.
        memory_limit_mb: Address-space cap of the worker.
    """

    def __init__(self, *, timeout_s: float, memory_limit_mb: int = 4096) -> None:
        from pebble import ProcessPool

        self.timeout_s = timeout_s
        context = multiprocessing.get_context("spawn")
        self._attempts = context.SimpleQueue()
        self._relay = threading.Thread(target=_relay_attempts, args=(self._attempts,), name="sanctum-guard-relay",
                                       daemon=True)
        self._relay.start()
        self._pool = ProcessPool(
            max_workers=1,
            initializer=_init_worker,
            initargs=(memory_limit_mb << 20, self._attempts),
            context=context,
        )

    def submit(self, path: Path, *, password: str | None = None) -> Future[ParsedDocument]:
        """Queue a file; the worker starts on it as soon as the previous one is done."""
        future: Future[ParsedDocument] = self._pool.submit(_parse, self.timeout_s, str(path), password)
        return future

    def result(self, future: Future[ParsedDocument]) -> ParsedDocument:
        """Wait for a parse; every failure comes back as a ParseError with a reason."""
        from pebble import ProcessExpired

        try:
            return future.result()
        except ParseError:
            raise
        except FutureTimeout as exc:
            raise ParseTimeout(
                f"timed out after {self.timeout_s:g} s (the file may be damaged or too complex)") from exc
        except MemoryError as exc:
            raise ParseError("too large to read: the file needs more memory than allowed") from exc
        except ProcessExpired as exc:
            raise ParseError(_crash_reason(exc.exitcode)) from exc
        except Exception as exc:  # a parser bug must still cost one file only
            raise ParseError(f"could not be read: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._pool.stop()
        self._pool.join(timeout=5)
        with contextlib.suppress(OSError, ValueError):
            self._attempts.put(None)  # ends the relay
        self._relay.join(timeout=5)


def _relay_attempts(queue: _AttemptQueue) -> None:
    """Hand the worker's refused attempts to this process's guard (when it has one), as they happen."""
    from app.core.privacy import netguard

    while True:
        try:
            item = queue.get()
        except (EOFError, OSError):
            return
        if item is None:
            return
        guard = netguard.current()
        if guard is not None:
            guard.note(netguard.Attempt(time=item[0], event=item[1], target=f"{item[2]} (from the file reader)"))


def _crash_reason(exitcode: int | None) -> str:
    """Why the worker died, in words: a signal (killed, out of memory, segfault) or an exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = "it may be too large for the memory available" if name == "SIGKILL" else "it may be damaged"
        return f"the reader was stopped by {name} while reading this file; {hint}"
    return f"the reader crashed on this file (exit code {exitcode}); it may be damaged"
