"""``sanctum libraries``, ``library``, ``watch`` and ``rescan``: libraries and followed folders.

Kept apart from :mod:`app.cli.main` so that file stays about documents and questions; ``app.cli.main``
adds these subcommands and dispatches to :data:`HANDLERS`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.output import outcome_line

if TYPE_CHECKING:
    from app.core.engine import Engine
    from app.core.ingest.service import FileOutcome
    from app.core.ingest.watch import RescanResult

EXIT_OK, EXIT_FAILED = 0, 1


def add_commands(sub: Any) -> None:
    """Add the subcommands to ``sanctum``'s subparsers."""
    p = sub.add_parser("libraries", help="list the libraries and what they hold")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("library", help="create, rename or delete a library")
    lsub = p.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    lsub.add_parser("create", help="add an empty library").add_argument("name")
    ren = lsub.add_parser("rename", help="rename a library")
    ren.add_argument("name")
    ren.add_argument("new_name")
    lsub.add_parser("delete", help="delete a library and remove its documents from the index (not from disk)"
                    ).add_argument("name")

    p = sub.add_parser("watch", help="follow folders: new, changed and deleted files are picked up")
    wsub = p.add_subparsers(dest="watch_command", metavar="ACTION", required=True)
    add = wsub.add_parser("add", help="follow a folder (and ingest it now)")
    add.add_argument("folder", type=Path)
    add.add_argument("--library", metavar="NAME", help="the library its files go to (default: My documents)")
    add.add_argument("--no-scan", action="store_true", help="do not ingest it now; the next rescan will")
    lst = wsub.add_parser("list", help="the followed folders")
    lst.add_argument("--json", action="store_true")
    rm = wsub.add_parser("remove", help="stop following a folder")
    rm.add_argument("folder", type=Path)
    rm.add_argument("--forget", action="store_true", help="also remove its documents from the library")
    wsub.add_parser("run", help="follow the folders until Ctrl-C")

    p = sub.add_parser("rescan", help="bring the library in step with the followed folders, once")
    p.add_argument("--json", action="store_true")


# -- libraries -----------------------------------------------------------------------------------


def _libraries(engine: Engine, args: argparse.Namespace) -> int:
    documents = engine.document_service()
    infos, watched = documents.libraries(), documents.watched()
    if args.json:
        print(json.dumps([{"name": i.name, "documents": i.documents, "ready": i.ready, "chunks": i.chunks,
                           "folders": [str(w.path) for w in watched if w.library == i.name]} for i in infos],
                         indent=2, ensure_ascii=False))
        return EXIT_OK
    for i in infos:
        folders = [str(w.path) for w in watched if w.library == i.name]
        follows = f"; follows {', '.join(folders)}" if folders else ""
        print(f"{i.name}: {i.ready} documents ready of {i.documents}, {i.chunks} passages{follows}")
    return EXIT_OK


def _library(engine: Engine, args: argparse.Namespace) -> int:
    documents = engine.document_service()
    if args.library_command == "create":
        print(f"created library '{documents.create_library(args.name)}'")
    elif args.library_command == "rename":
        print(f"renamed '{args.name}' to '{documents.rename_library(args.name, args.new_name)}'")
    else:
        removed = documents.delete_library(args.name)
        print(f"deleted library '{args.name}' ({removed} documents removed from the index; files untouched)")
    return EXIT_OK


# -- watch / rescan ------------------------------------------------------------------------------


def _outcome_printer(as_json: bool) -> Callable[[FileOutcome], None]:
    def show(o: FileOutcome) -> None:
        if not as_json:
            print(outcome_line(o), flush=True)

    return show


def _report(result: RescanResult, *, as_json: bool) -> int:
    failed = sum(1 for o in result.outcomes if o.status == "failed")
    if as_json:
        print(json.dumps({
            "outcomes": [{"path": str(o.path), "status": o.status, "reason": o.reason, "chunks": o.chunks}
                         for o in result.outcomes],
            "removed": [str(p) for p in result.removed],
            "deferred": [str(p) for p in result.deferred],
            "unchanged": result.unchanged,
            "unavailable": [{"path": str(p), "reason": r} for p, r in result.unavailable],
            "seconds": round(result.seconds, 3),
        }, indent=2))
    else:
        for path in result.removed:
            print(f"removed    {path}", flush=True)
        for path in result.deferred:
            print(f"deferred   {path}: still changing; the next pass takes it", flush=True)
        for path, reason in result.unavailable:
            print(f"unavailable {path}: {reason}", file=sys.stderr)
        ingested = sum(1 for o in result.outcomes if o.status == "ingested")
        print(f"done: {ingested} ingested, {failed} failed, {len(result.removed)} removed, "
              f"{len(result.deferred)} deferred, {result.unchanged} unchanged ({result.seconds:.2f} s)",
              file=sys.stderr)
    return EXIT_FAILED if failed or result.unavailable else EXIT_OK


def _watch(engine: Engine, args: argparse.Namespace) -> int:
    service = engine.watch_service()
    if args.watch_command == "add":
        folder = service.add(args.folder, library=args.library)
        print(f"following  {folder.path} (library '{folder.library}')")
        if args.no_scan:
            return EXIT_OK
        return _report(service.rescan([folder], on_file=_outcome_printer(False)), as_json=False)
    if args.watch_command == "list":
        folders = service.folders()
        if args.json:
            print(json.dumps([{"path": str(f.path), "library": f.library} for f in folders], indent=2))
            return EXIT_OK
        if not folders:
            print("No folder is followed. Follow one with: sanctum watch add FOLDER")
        for f in folders:
            print(f"{f.path}  (library '{f.library}')")
        return EXIT_OK
    if args.watch_command == "remove":
        if not service.remove(args.folder, forget_documents=args.forget):
            print(f"not followed  {args.folder}", file=sys.stderr)
            return EXIT_FAILED
        print(f"stopped following {Path(args.folder).expanduser().resolve()}")
        return EXIT_OK
    if not service.folders():
        print("No folder is followed. Follow one with: sanctum watch add FOLDER", file=sys.stderr)
        return EXIT_FAILED
    stop = threading.Event()
    print("following " + ", ".join(str(f.path) for f in service.folders()) + " (Ctrl-C stops)", file=sys.stderr)

    def on_pass(result: RescanResult) -> None:
        if result.changed or result.deferred or result.unavailable:
            _report(result, as_json=False)

    def on_error(exc: Exception) -> None:
        print(f"sanctum: {exc}", file=sys.stderr)

    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop = Ctrl-C
    try:
        service.run(stop=stop, on_file=_outcome_printer(False), on_pass=on_pass, on_error=on_error)
    except KeyboardInterrupt:
        stop.set()
        print("\nstopped following", file=sys.stderr)
    return EXIT_OK


def _rescan(engine: Engine, args: argparse.Namespace) -> int:
    service = engine.watch_service()
    if not service.folders():
        print("No folder is followed. Follow one with: sanctum watch add FOLDER", file=sys.stderr)
        return EXIT_OK
    return _report(service.rescan(on_file=_outcome_printer(args.json)), as_json=args.json)


HANDLERS: dict[str, Callable[[Engine, argparse.Namespace], int]] = {
    "libraries": _libraries, "library": _library, "watch": _watch, "rescan": _rescan,
}
