"""``sanctum library create NAME --server URL``, ``share``, ``join``, ``unshare``: shared libraries.

Kept apart from :mod:`app.cli.library`; that module adds these actions and hands them here. Also
:func:`shared_view`, through which ``sanctum ingest/search/ask --library NAME`` reach a shared
library with the same handlers as a local one.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.engine import Engine
    from app.core.team.session import SharedSession

EXIT_OK = 0
ACTIONS = ("share", "join", "unshare", "members")


def add_actions(lsub: Any, create: argparse.ArgumentParser) -> None:
    """Add ``--server`` to ``library create`` and the sharing actions to ``library``."""
    create.add_argument("--server", metavar="URL",
                        help="keep the library on this Chroma server (https; http only on this computer) to share it")
    create.add_argument("--member", metavar="NAME", default="owner",
                        help="your name among its members (default: owner)")
    p = lsub.add_parser("share", help="make a one-time invite for a new member of a shared library")
    p.add_argument("name")
    p.add_argument("--member", metavar="NAME", help="the new member's name (shown to the others; used by unshare)")
    p = lsub.add_parser("join", help="join a shared library with an invite (on the new member's computer)")
    p.add_argument("invite", help="the line `sanctum library share` printed")
    p = lsub.add_parser("unshare", help="remove a member of a shared library and change its key")
    p.add_argument("name")
    p.add_argument("--member", metavar="NAME", required=True)
    p = lsub.add_parser("members", help="the members of a shared library")
    p.add_argument("name")


def wants(args: argparse.Namespace) -> bool:
    """Whether ``sanctum library …`` is a shared-library action."""
    return args.library_command in ACTIONS or (args.library_command == "create" and bool(getattr(args, "server", None)))


def run(engine: Engine, args: argparse.Namespace) -> int:
    from app.core.team.session import SharedSession

    command = args.library_command
    if command == "create":
        with SharedSession.create(engine, args.name, args.server, member=args.member) as session:
            print(f"created shared library '{session.name}' on {session.library.address.label}; "
                  f"add members with: sanctum library share \"{session.name}\" --member NAME")
        return EXIT_OK
    if command == "join":
        with SharedSession.join(engine, args.invite) as session:
            docs = len(session.library.registry.all())
            print(f"joined shared library '{session.name}' on {session.library.address.label} as "
                  f"'{session.library.entry.member}' ({docs} documents)")
        return EXIT_OK
    with SharedSession.open(engine, args.name) as session:
        if command == "share":
            invite = session.share(args.member)
            print("Give this line to the new member (once; it stops working when used). On their computer run:",
                  file=sys.stderr)
            print(f"  sanctum library join {invite}", file=sys.stderr)
            print(invite)
        elif command == "unshare":
            count = session.unshare(args.member)
            print(f"removed '{args.member}' from '{session.name}'; its key was changed ({count} documents "
                  "re-sealed), so their copy no longer opens it")
        else:
            for label in session.library.members():
                print(label + (" (you)" if label == session.library.entry.member else ""))
    return EXIT_OK


def _named(args: argparse.Namespace) -> list[str]:
    value = getattr(args, "library", None)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class _SharedView:
    """The engine as the ingest/search/ask handlers see it, with a shared library's services."""

    def __init__(self, engine: Engine, session: SharedSession) -> None:
        self._engine = engine
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def ingest_service(self, *, reindex: bool = False) -> Any:
        return self._session.ingest_service()

    def search_service(self) -> Any:
        self._session.sync()
        return self._session.search_service()

    def ask_service(self, model_key: str | None = None) -> Any:
        self._session.sync()  # before each question: documents other members added since are found
        return self._session.ask_service()

    def document_service(self) -> Any:
        return _SharedDocuments(self._session)


class _SharedDocuments:
    """What ``sanctum remove`` needs of the document service, on a shared library: a file or the
    name the library shows, removed for every member."""

    def __init__(self, session: SharedSession) -> None:
        self._session = session

    def remove(self, path: Path | str) -> object | None:
        self._session.sync()
        return True if self._session.ingest_service().remove(Path(path)) else None

    @contextlib.contextmanager
    def removals(self) -> Iterator[None]:
        """As :meth:`DocumentService.removals`; a shared library's store is on its server, which
        this computer does not compact (see :meth:`app.core.storage.vectors.VectorStore.compact`)."""
        yield


@contextlib.contextmanager
def shared_view(engine: Engine, args: argparse.Namespace) -> Iterator[Any]:
    """``engine`` itself, or, when the command names a shared library, a view of it whose services
    work on that library."""
    from app.core.errors import SanctumError
    from app.core.team.session import shared_entries

    names: Sequence[str] = _named(args) if args.command in ("ingest", "search", "ask", "remove") else []
    shared = [n for n in names if n in shared_entries(engine.paths.root)] if names else []
    if not shared:
        yield engine
        return
    if len(names) > 1:
        raise SanctumError("a shared library is asked on its own: name only that --library")
    from app.core.team.session import SharedSession

    with SharedSession.open(engine, shared[0]) as session:
        yield _SharedView(engine, session)
