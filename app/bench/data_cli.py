"""The data-side benchmarks of ``sanctum bench``: ingest, embedders, rescan, search.

Each prints a table and writes its figures as JSON (``--json FILE``, by default
``bench-results/NAME.json``). Every figure is set beside the raw library measured in the same run:
this machine is noisy, ratios are what can be compared.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.keys import PassphraseProvider

COMMANDS = ("ingest", "embedders", "rescan", "search")
RESULTS_DIR = Path("bench-results")
SCIFACT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "retrieval" / "scifact"


def add_parsers(bench: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ingest, embedders, rescan and search under ``sanctum bench``."""
    p = bench.add_parser("ingest", help="end-to-end ingest vs raw SentenceTransformer.encode of the same chunks")
    p.add_argument("--corpus", default="scifact", metavar="scifact|DIR",
                   help="'scifact' (BEIR SciFact abstracts as small files) or a folder of documents")
    p.add_argument("--scifact", type=Path, default=SCIFACT, metavar="DIR", help="where SciFact's corpus.jsonl is")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N abstracts (quick runs)")
    p.add_argument("--batch-size", type=int, metavar="N", help="embedder batch size (default: the app's)")
    _json_option(p, "ingest")


def _json_option(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--json", type=Path, metavar="FILE", default=RESULTS_DIR / f"{name}.json",
                   help=f"where to write the results (default: {RESULTS_DIR / name}.json)")


def run(args: argparse.Namespace, *, passphrase: PassphraseProvider | None) -> int:
    """Run one of :data:`COMMANDS`; prints its table and writes its JSON."""
    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result: dict[str, Any]
    if args.bench_command == "ingest":
        from app.bench import ingest

        result = ingest.run(args.corpus, limit=args.limit, batch_size=args.batch_size, scifact_dir=args.scifact,
                            embedding_model=args.embedding_model, passphrase=passphrase, log=log)
        text = ingest.table(result)
    else:
        raise AssertionError(args.bench_command)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log(f"results written to {args.json}")
    return 0
