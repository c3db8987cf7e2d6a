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
    parser.add_argument("--model", metavar="FILE.gguf", type=Path, help="chat model for this run (default: the bundled one)")
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

    p = sub.add_parser("search", help="show the passages that best match a query")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--library", metavar="NAME", action="append", help="search only this library (repeatable)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", help="answer a question from your documents, with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    p.add_argument("--library", metavar="NAME", action="append", help="answer only from this library (repeatable)")

    p = sub.add_parser("models", help="show and verify the chat and embedding models")
    p.add_argument("--json", action="store_true")

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

    p = sub.add_parser("audit", help="check or export the audit log")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    asub.add_parser("verify", help="check that no record was altered, removed or cut off")
    aexp = asub.add_parser("export", help="write a readable copy of the audit log")
    aexp.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE (default: print it)")

    p = sub.add_parser("export", help="export a saved conversation to Markdown or PDF")
    p.add_argument("conversation", metavar="CONVERSATION",
                   help="a saved conversation's title or id (see `sanctum conversations`), or a JSON file")
    p.add_argument("--output", "-o", type=Path, required=True, metavar="FILE.md|FILE.pdf")
    p.add_argument("--format", choices=["md", "pdf"], help="default: from the output file's suffix")
    p.add_argument("--redact", action="store_true",
                   help="replace e-mail addresses, phone, card, IBAN, SSN and NHS numbers and dates of birth")

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

        with Engine(chat_model=args.model, embedding_model=args.embedding_model, passphrase=ask_passphrase) as engine:
            handler = {
                "ingest": _ingest, "docs": _docs, "remove": _remove, "search": _search, "ask": _ask,
                "models": _models, "config": _config_set, "audit": _audit, "export": _export,
                "conversations": _conversations,
                **cli_library.HANDLERS,
            }[args.command]
            return handler(engine, args)
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


def _outcome_line(o: FileOutcome) -> str:
    if o.status == "ingested":
        pages = f", {o.pages} pages" if o.pages else ""
        return f"ingested   {o.path} ({o.chunks} chunks{pages}, {o.seconds:.1f} s)"
    if o.status == "unchanged":
        return f"unchanged  {o.path}"
    return f"{o.status:<10} {o.path}: {o.reason}"


def _ingest(engine: Engine, args: argparse.Namespace) -> int:
    service = engine.ingest_service(reindex=args.reindex)
    progress = _Progress(sys.stderr)

    def on_file(o: FileOutcome) -> None:
        if args.json:
            return
        progress.clear()
        print(_outcome_line(o), flush=True)

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
    docs = engine.library.all()
    if args.json:
        print(json.dumps([{"path": d.path, "status": d.status, "format": d.format, "title": d.title,
                           "pages": d.page_count, "chunks": d.chunk_count, "error": d.error}
                          for d in docs], indent=2))
        return EXIT_OK
    if not docs:
        print("The library is empty. Add documents with: sanctum ingest PATH...")
        return EXIT_OK
    for d in docs:
        detail = d.error if d.status == "failed" else f"{d.chunk_count} chunks" + (f", {d.page_count} pages" if d.page_count else "")
        print(f"{d.status:<9} {d.path} ({detail})")
    return EXIT_OK


def _remove(engine: Engine, args: argparse.Namespace) -> int:
    service = engine.ingest_service()
    missing = 0
    for path in args.paths:
        if service.remove(path):
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
    for event in engine.ask_service().ask(args.question, libraries=args.library):
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


def _models(engine: Engine, args: argparse.Namespace) -> int:
    from app.core.models.gguf import read_gguf_info

    chat = read_gguf_info(engine.chat_model_path())
    emb_path = engine.embedding_model_path()
    info = {
        "chat": {"path": str(chat.path), "name": chat.name, "architecture": chat.architecture,
                 "quantization": chat.quantization, "context_length": chat.context_length,
                 "size_bytes": chat.size_bytes, "chat_template": chat.has_chat_template},
        "embedding": {"path": str(emb_path)},
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    c = info["chat"]
    print(f"chat model:      {c['name']} ({c['quantization'] or 'unknown quantization'}, "
          f"{chat.size_bytes / 1e6:,.0f} MB, trained context {c['context_length']})\n"
          f"                 {c['path']}")
    print(f"embedding model: {emb_path}")
    return EXIT_OK


def _config_show() -> int:
    import dataclasses

    from app.core.config import Settings, data_dir

    path = data_dir() / "settings.json"
    settings = Settings.load(path)
    for f in dataclasses.fields(settings):
        print(f"{f.name} = {getattr(settings, f.name)!r}")
    print(f"# stored in {path}")
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
    if args.value.lower() in ("", "none", "default") and args.key in ("chat_model", "embedding_model",
                                                                     "embedding_backend"):
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


def _audit(engine: Engine, args: argparse.Namespace) -> int:
    log = engine.audit
    if args.audit_command == "verify":
        check = log.verify()
        if check.ok:
            print(f"audit log intact: {check.records} records, chain and signatures check out")
            return EXIT_OK
        print(f"sanctum: audit log BROKEN at record {check.first_broken}: {check.problem}", file=sys.stderr)
        return EXIT_FAILED
    from app.core.privacy.audit import AUDIT_EXPORTED

    if args.output:
        import io

        buffer = io.StringIO()
        check = log.export(buffer)
        from app.core.config import atomic_write_text

        atomic_write_text(args.output.expanduser(), buffer.getvalue())
        print(f"wrote {check.records} records to {args.output}", file=sys.stderr)
    else:
        check = log.export(sys.stdout)
    log.record(AUDIT_EXPORTED, output=str(args.output) if args.output else "stdout", records=check.records)
    if not check.ok:
        print(f"sanctum: audit log BROKEN at record {check.first_broken}: {check.problem}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _export(engine: Engine, args: argparse.Namespace) -> int:
    from app.core.privacy.export import from_saved, load_conversation

    if args.conversation.lower().endswith(".json") and Path(args.conversation).expanduser().is_file():
        conversation = load_conversation(Path(args.conversation).expanduser())
    else:
        saved = _find_conversation(engine, args.conversation)
        store = engine.conversations()
        conversation = from_saved(saved.title, saved.created_at, store.messages(saved.conv_id))
    result = engine.export_conversation(conversation, args.output, fmt=args.format, redact=args.redact)
    note = ""
    if args.redact:
        total = sum(result.redacted.values())
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.redacted.items()))
        note = f" ({total} redacted: {kinds})" if total else " (nothing to redact)"
    print(f"exported {len(conversation.turns)} messages to {result.path}{note}")
    return EXIT_OK


def _find_conversation(engine: Engine, wanted: str) -> Any:
    from app.core.errors import SanctumError

    saved = engine.conversations().list()
    exact = [c for c in saved if wanted in (c.conv_id, c.title)]
    loose = exact or [c for c in saved if c.title.casefold() == wanted.casefold()]
    if len(loose) == 1:
        return loose[0]
    if not loose:
        raise SanctumError(f"no saved conversation is called '{wanted}'; list them with `sanctum conversations`")
    raise SanctumError(f"{len(loose)} conversations are called '{wanted}'; give its id (see `sanctum conversations`)")


def _conversations(engine: Engine, args: argparse.Namespace) -> int:
    import datetime

    saved = engine.conversations().list()
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
