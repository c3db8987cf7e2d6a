"""The ``sanctum`` command: the desktop app with no arguments, the headless engine with one.

Exit codes: 0 success; 1 the work ran but something failed (a file, a model); 2 a usage error;
130 interrupted.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli import library as cli_library
from app.cli import models as cli_models
from app.cli.output import outcome_line

if TYPE_CHECKING:
    from app.core.engine import Engine
    from app.core.ingest.service import FileOutcome, IngestProgress

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _offline_environment() -> None:
    """Quiet the Hugging Face libraries before they are imported (the launcher's job).

    The offline and telemetry switches are forced, not defaulted, by ``netguard.install``.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sanctum",
        description="Private, offline question answering over your own documents. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--model", metavar="FILE.gguf", type=Path,
                        help="chat model for this run (default: the bundled one)")
    parser.add_argument("--embedding-model", metavar="DIR", type=Path,
                        help="sentence-transformers folder for this run (default: the bundled one)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the desktop app (the same as no command)")
    p.add_argument("--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    p.add_argument("--screenshot", type=Path, metavar="FILE.png", help=argparse.SUPPRESS)

    p = sub.add_parser("ingest", help="add files or folders (recursively) to the library")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--reindex", action="store_true", help="re-embed everything (after changing the embedding model)")
    p.add_argument("--password", help="password for encrypted documents (on a terminal Sanctum asks when needed)")
    p.add_argument("--library", metavar="NAME", help="the library they go to (default: My documents)")
    p.add_argument("--json", action="store_true", help="print the outcomes as JSON")

    p = sub.add_parser("docs", help="list the documents in the library")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="remove documents (and all their passages) from the library")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--library", metavar="NAME", help="a shared library: remove them for every member (PATH or name)")

    p = sub.add_parser("search", help="show the passages that best match a query")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--library", metavar="NAME", action="append", help="search only this library (repeatable)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", help="answer a question from your documents, with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    p.add_argument("--library", metavar="NAME", action="append", help="answer only from this library (repeatable)")
    p.add_argument("--with-model", metavar="NAME",
                   help="answer with this model of `sanctum models` (default: the default model)")
    p.add_argument("--server", metavar="URL",
                   help="a team server (OpenAI-compatible: llama-server, vLLM, Ollama) writes the answer, this time")

    p = sub.add_parser("models", help="the chat models: list, add, remove, choose the default, quantize, adapters")
    cli_models.add_arguments(p)

    cli_library.add_commands(sub)

    p = sub.add_parser("bench", help="measure Sanctum (retrieval quality, speed)")
    from app.bench.cli import add_parsers as add_bench_parsers

    add_bench_parsers(p.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True))

    p = sub.add_parser("config", help="show or change settings")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    csub.add_parser("show", help="print the settings")
    cset = csub.add_parser("set", help="change one setting")
    cset.add_argument("key")
    cset.add_argument("value")
    ctok = csub.add_parser("server-token", help="keep the team server's API token in the system keyring")
    ctok.add_argument("--clear", action="store_true", help="forget the token")

    p = sub.add_parser("audit", help="check or export the audit log")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    asub.add_parser("verify", help="check that no record was altered, removed or cut off")
    aexp = asub.add_parser("export", help="write a readable copy of the audit log")
    aexp.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE (default: print it)")
    afile = asub.add_parser("file", help="what happened to one file (the log keeps only a keyed hash of its path)")
    afile.add_argument("path", type=Path, metavar="PATH")

    p = sub.add_parser("export", help="export a saved conversation to Markdown or PDF")
    p.add_argument("conversation", metavar="CONVERSATION",
                   help="a saved conversation's title or id (see `sanctum conversations`), or a JSON file")
    p.add_argument("--output", "-o", type=Path, required=True, metavar="FILE.md|FILE.pdf")
    p.add_argument("--format", choices=["md", "pdf"], help="default: from the output file's suffix")
    p.add_argument("--redact", action="store_true",
                   help="replace names, e-mail addresses, phone, card, IBAN, SSN and NHS numbers and dates of birth")

    p = sub.add_parser("conversations", help="list the saved conversations")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("wipe", help="delete all Sanctum data and its key (cannot be undone)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    return parser


def _version() -> str:
    from app import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    _offline_environment()
    from app.core.privacy import netguard

    netguard.install()  # from here on, no connection leaves this process (see app/core/privacy/netguard.py)
    from app.core.privacy.hardening import harden_process

    harden_process()  # no core dumps of the data key or document text; files we create are ours only
    from app.core.ingest.parsers.legacy import sweep_conversion_folders

    sweep_conversion_folders()  # what a killed file reader left (decrypted .doc/.ppt) goes first
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui"):
        from app.gui.launch import launch

        return launch(quit_after=getattr(args, "quit_after", None), screenshot=getattr(args, "screenshot", None),
                      chat_model=args.model, embedding_model=args.embedding_model)
    if args.command in ("search",) and args.k < 1:
        parser.error("-k must be 1 or more")
    from app.core.errors import SanctumError

    try:
        if args.command == "config" and args.config_command == "show":
            return _config_show()
        if args.command == "wipe":
            return _wipe(args)
        if args.command == "bench":
            from app.bench.cli import run as run_bench

            return run_bench(args, passphrase=ask_passphrase)
        from app.core.engine import Engine

        with Engine(chat_model=args.model, embedding_model=args.embedding_model, passphrase=ask_passphrase,
                    chat_server=getattr(args, "server", None)) as engine:
            handler = {
                "ingest": _ingest, "docs": _docs, "remove": _remove, "search": _search, "ask": _ask,
                "models": cli_models.run, "config": _config, "audit": _audit, "export": _export,
                "conversations": _conversations,
                **cli_library.HANDLERS,
            }[args.command]
            warned = args.command != "audit" and _warn_if_audit_log_lost(engine)
            from app.cli.team import shared_view

            with shared_view(engine, args) as view:  # --library NAME of a shared library: its services
                code = handler(view, args)
            return max(code, EXIT_FAILED) if warned else code
    except SanctumError as exc:
        print(f"sanctum: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nsanctum: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def ask_passphrase(prompt: str, new: bool) -> str | None:
    """The passphrase from $SANCTUM_PASSPHRASE, or typed on a terminal; None when neither can be."""
    value = os.environ.get("SANCTUM_PASSPHRASE")
    if value:
        return value
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None  # never wait for input that cannot come
    import getpass

    first = getpass.getpass(f"{prompt}: ")
    if new and first and getpass.getpass("Type it again: ") != first:
        print("sanctum: the two passphrases differ", file=sys.stderr)
        return None
    return first or None


# -- ingest -------------------------------------------------------------------------------------


class _Progress:
    """A one-line progress display on a terminal; silent when stderr is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.width = 0

    def __call__(self, p: IngestProgress) -> None:
        if not self.live or p.current is None:
            return
        line = f"[{p.done + 1}/{p.total}] {p.stage} {p.current.name}"[:100]
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def clear(self) -> None:
        if self.live and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def _ingest(engine: Engine, args: argparse.Namespace) -> int:
    service = engine.ingest_service(reindex=args.reindex)
    progress = _Progress(sys.stderr)

    def on_file(o: FileOutcome) -> None:
        if args.json:
            return
        progress.clear()
        print(outcome_line(o), flush=True)

    def password_for(path: Path) -> str | None:
        progress.clear()
        return getpass.getpass(f"Password for {path.name} (Enter to skip it): ") or None

    # Ask on a terminal only: with no one to answer (a script, a pipe) an encrypted file is
    # reported as "password required" and the batch goes on.
    ask = password_for if args.password is None and sys.stdin.isatty() else None
    outcomes = service.ingest(args.paths, reindex=args.reindex, password=args.password, password_for=ask,
                              on_file=on_file, progress=progress, library=args.library)
    progress.clear()
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    if args.json:
        print(json.dumps([{"path": str(o.path), "status": o.status, "reason": o.reason, "chunks": o.chunks,
                           "pages": o.pages} for o in outcomes], indent=2))
    else:
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(f"done: {summary or 'nothing to do'}", file=sys.stderr)
    return EXIT_FAILED if counts.get("failed") else EXIT_OK


# -- docs / remove ------------------------------------------------------------------------------


def _docs(engine: Engine, args: argparse.Namespace) -> int:
    docs = engine.document_service().all()
    if args.json:
        print(json.dumps([{"path": d.path, "status": d.status, "format": d.format, "title": d.title,
                           "pages": d.page_count, "chunks": d.chunk_count, "error": d.error}
                          for d in docs], indent=2))
        return EXIT_OK
    if not docs:
        print("The library is empty. Add documents with: sanctum ingest PATH...")
        return EXIT_OK
    for d in docs:
        pages = f", {d.page_count} pages" if d.page_count else ""
        detail = d.error if d.status == "failed" else f"{d.chunk_count} chunks{pages}"
        print(f"{d.status:<9} {d.path} ({detail})")
    return EXIT_OK


def _remove(engine: Engine, args: argparse.Namespace) -> int:
    documents = engine.document_service()
    missing = 0
    with documents.removals():  # the store is rewritten once, at the end
        for path in args.paths:
            if documents.remove(path) is not None:
                print(f"removed    {Path(path).expanduser().resolve()}")
            else:
                print(f"not found  {path}: not in the library", file=sys.stderr)
                missing += 1
    return EXIT_FAILED if missing else EXIT_OK


# -- search / ask -------------------------------------------------------------------------------


def _search(engine: Engine, args: argparse.Namespace) -> int:
    passages = engine.search_service().search(args.query, k=args.k, libraries=args.library)
    if args.json:
        print(json.dumps([{"path": p.path, "page": p.page, "score": round(p.score, 4), "text": p.text,
                           "chunk_id": p.chunk_id} for p in passages], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not passages:
        print("No passages: the library is empty." if not args.library else "No passages in the chosen libraries.")
    for p in passages:
        print(f"{p.score:.3f}  {p.where()}\n       {_snippet(p.text)}")
    return EXIT_OK


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _ask(engine: Engine, args: argparse.Namespace) -> int:
    from app.core.answer.service import Done, Token

    done: Done | None = None
    streamed = ""
    for event in engine.ask_service(args.with_model).ask(args.question, libraries=args.library):
        if isinstance(event, Token) and not args.json:
            sys.stdout.write(event.text)
            sys.stdout.flush()
            streamed += event.text
        elif isinstance(event, Done):
            done = event
    assert done is not None
    if args.json:
        payload: dict[str, Any] = {
            "answer": done.answer,
            "citations": [{"n": p.n, "path": p.path, "page": p.page, "text": p.text} for p in done.citations],
            "model": done.model,
            "timings": done.timings,
            "evidence": [{"n": e.n, "path": e.path, "page": e.page, "text": e.text} for e in done.evidence],
            "supported": done.supported,
            "declined": done.declined,
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return EXIT_OK
    shown = streamed.strip()
    # The final answer may add citation markers after what was streamed; print only the rest.
    sys.stdout.write(done.answer[len(shown):] if done.answer.startswith(shown) else
                     ("\n\n" if shown else "") + done.answer)
    print()
    if done.supported is False:
        print("\n(!) Not found in your documents: check this answer before relying on it.")
    if done.evidence:
        print("\nEvidence:")
        for e in done.evidence:
            print(f"  [{e.n}] “{_snippet(e.text, 240)}” — {e.where()}")
    if done.citations:
        print("\nSources:")
        for p in done.citations:
            print(f"  [{p.n}] {p.path}" + (f", {p.label}" if p.label else ""))
            print(f"      “{_snippet(p.text, 200)}”")
    return EXIT_OK


# -- models / config ----------------------------------------------------------------------------


def _config_show() -> int:
    import dataclasses

    from app.core.config import Settings, data_dir

    path = data_dir() / "settings.json"
    settings = Settings.load(path)
    for f in dataclasses.fields(settings):
        print(f"{f.name} = {getattr(settings, f.name)!r}")
    print(f"# stored in {path}")
    return EXIT_OK


def _config(engine: Engine, args: argparse.Namespace) -> int:
    if args.config_command == "server-token":
        return _server_token(engine, args)
    return _config_set(engine, args)


def _server_token(engine: Engine, args: argparse.Namespace) -> int:
    """Store (or forget) the API token of the configured team server in the keyring, never in a file."""
    from app.core.errors import ConfigError

    server = engine.team_server()
    if server is None:
        raise ConfigError("no team server is set; first: sanctum config set chat_server https://HOST:PORT")
    if args.clear:
        engine.privacy_service().set_server_token(server.url, None)
        print(f"the API token for {server.label} is forgotten")
        return EXIT_OK
    token = os.environ.get("SANCTUM_SERVER_TOKEN")
    if not token and sys.stdin.isatty():
        import getpass

        token = getpass.getpass(f"API token for {server.label}: ")
    if not token:
        raise ConfigError("no token given: type it when asked, or set SANCTUM_SERVER_TOKEN")
    engine.privacy_service().set_server_token(server.url, token)
    print(f"the API token for {server.label} is kept in the system keyring")
    return EXIT_OK


def _config_set(engine: Engine, args: argparse.Namespace) -> int:
    import dataclasses

    from app.core.errors import ConfigError

    settings = engine.settings
    fields = {f.name: f for f in dataclasses.fields(settings)}
    if args.key not in fields:
        raise ConfigError(f"unknown setting '{args.key}'; known: {', '.join(fields)}")
    current = getattr(settings, args.key)
    value: Any = args.value
    if args.value.lower() in ("", "none", "default", "local") and args.key in (
            "chat_model", "embedding_model", "embedding_backend", "chat_server", "chat_server_model"):
        value = None
    elif isinstance(current, bool):
        value = args.value.lower() in ("1", "true", "yes", "on")
    elif isinstance(current, int):
        value = _number(args.key, args.value, int)
    elif isinstance(current, float):
        value = _number(args.key, args.value, float)
    elif args.key in ("chat_model", "embedding_model"):
        value = str(Path(args.value).expanduser().resolve())
    engine.update_settings(**{args.key: value})  # validated, recorded in the audit log, saved
    print(f"{args.key} = {value!r}")
    return EXIT_OK


# -- privacy: audit / export / wipe -------------------------------------------------------------


def _warn_if_audit_log_lost(engine: Engine) -> bool:
    """Say so (and make the command exit 1) when the audit log was deleted or rolled back."""
    broken = engine.audit.check_anchor()
    if broken is None:
        return False
    print(f"sanctum: WARNING: {broken.problem}. Run `sanctum audit verify`; the command still runs.", file=sys.stderr)
    return True


def _audit(engine: Engine, args: argparse.Namespace) -> int:
    privacy = engine.privacy_service()
    if args.audit_command == "verify":
        check = privacy.verify_audit()
        if check.ok:
            print(f"audit log intact: {check.records} records, chain and signatures check out")
            return EXIT_OK
        print(f"sanctum: audit log BROKEN at record {check.first_broken}: {check.problem}", file=sys.stderr)
        return EXIT_FAILED
    if args.audit_command == "file":
        path = args.path.expanduser().resolve()
        found = privacy.records_for_path(path)
        for rec in found:
            print(f"{rec.seq}\t{rec.time}\t{rec.user}\t{rec.event}")
        if not found:
            print(f"sanctum: the audit log has no record of {path}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    if args.output:
        import io

        buffer = io.StringIO()
        check = privacy.export_audit(buffer, destination=str(args.output))
        from app.core.config import atomic_write_text

        atomic_write_text(args.output.expanduser(), buffer.getvalue())
        print(f"wrote {check.records} records to {args.output}", file=sys.stderr)
    else:
        check = privacy.export_audit(sys.stdout, destination="stdout")
    if not check.ok:
        print(f"sanctum: audit log BROKEN at record {check.first_broken}: {check.problem}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _export(engine: Engine, args: argparse.Namespace) -> int:
    conversations = engine.conversation_service()
    if args.conversation.lower().endswith(".json") and Path(args.conversation).expanduser().is_file():
        conversation = conversations.load_file(Path(args.conversation).expanduser())
    else:
        conversation = conversations.for_export(conversations.find(args.conversation))
    result = conversations.export(conversation, args.output, fmt=args.format, redact=args.redact)
    note = ""
    if args.redact:
        total = sum(result.redacted.values())
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.redacted.items()))
        note = f" ({total} redacted: {kinds})" if total else " (nothing to redact)"
    print(f"exported {len(conversation.turns)} messages to {result.path}{note}")
    return EXIT_OK


def _conversations(engine: Engine, args: argparse.Namespace) -> int:
    import datetime

    saved = engine.conversation_service().list()
    if args.json:
        print(json.dumps([{"id": c.conv_id, "title": c.title, "updated_at": c.updated_at} for c in saved], indent=2))
        return EXIT_OK
    for c in saved:
        when = datetime.datetime.fromtimestamp(c.updated_at).strftime("%Y-%m-%d %H:%M")
        print(f"{c.conv_id}  {when}  {c.title}")
    if not saved:
        print("no saved conversations yet (the desktop app saves them)", file=sys.stderr)
    return EXIT_OK


def _wipe(args: argparse.Namespace) -> int:
    from app.core.config import data_dir
    from app.core.privacy.wipe import check_wipeable, wipe_data

    root = data_dir()
    check_wipeable(root)  # a mistaken SANCTUM_HOME is refused before anything is asked or deleted
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            print("sanctum: wipe deletes every document, conversation, the audit log and the key, and cannot be "
                  "undone; run it in a terminal to confirm, or add --yes", file=sys.stderr)
            return EXIT_USAGE
        sys.stderr.write(f"This deletes ALL Sanctum data in {root}, its encryption key included. "
                         "It cannot be undone.\nType 'wipe' to confirm: ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() != "wipe":
            print("sanctum: nothing was deleted", file=sys.stderr)
            return EXIT_FAILED
    removed = wipe_data(root)
    print(f"wiped {root}: the key and {len(removed)} items deleted")
    return EXIT_OK


def _number(key: str, text: str, kind: type) -> Any:
    from app.core.errors import ConfigError

    try:
        return kind(text)
    except ValueError as exc:
        raise ConfigError(f"invalid setting: {key} needs a number, not '{text}'") from exc


if __name__ == "__main__":
    sys.exit(main())
