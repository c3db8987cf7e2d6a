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
    from app.core.privacy.keys import PassphraseProvider

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

    p = bench.add_parser("embedders", help="torch vs ONNX fp32 vs ONNX int8: speed, agreement, nDCG@10 on SciFact")
    p.add_argument("--scifact", type=Path, default=SCIFACT, metavar="DIR", help="a BEIR SciFact folder")
    p.add_argument("--split", default="train", help="qrels split for nDCG@10 (default: train)")
    p.add_argument("--texts", type=int, default=512, help="abstracts timed per backend (default 512)")
    p.add_argument("--rounds", type=int, default=2, help="timing rounds, best kept (default 2)")
    p.add_argument("--batch-size", type=int, default=32, help="batch size for every backend (default 32)")
    p.add_argument("--docs", type=int, metavar="N", help="nDCG on the judged abstracts plus others up to N")
    p.add_argument("--no-quality", action="store_true", help="speed and agreement only")
    _json_option(p, "embedders")

    p = bench.add_parser("rescan", help="second pass over a followed folder of unchanged files vs os.scandir+stat")
    p.add_argument("--files", type=int, default=1000, help="small files in the folder (default 1000)")
    p.add_argument("--repeat", type=int, default=5, help="timed passes, best and median shown (default 5)")
    _json_option(p, "rescan")

    p = bench.add_parser("search", help="query latency p50/p95 (dense, keyword, hybrid) vs raw Chroma query")
    p.add_argument("--chunks", type=int, nargs="+", default=[10_000, 100_000],
                   help="library sizes (default 10000 100000)")
    p.add_argument("--repeat", type=int, default=2, help="passes over the 50 queries (default 2)")
    p.add_argument("--scifact", type=Path, default=SCIFACT, metavar="DIR", help="text and queries (SciFact)")
    _json_option(p, "search")


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
    elif args.bench_command == "embedders":
        from app.bench import embedders
        from app.core.engine import Engine

        with Engine(passphrase=passphrase, embedding_model=args.embedding_model) as engine:
            folder, onnx_dirs = engine.embedding_model_path(), engine.onnx_dirs()
        result = embedders.run(model_folder=folder, onnx_dirs=onnx_dirs, scifact=args.scifact, split=args.split,
                               texts=args.texts, rounds=args.rounds, batch_size=args.batch_size, docs=args.docs,
                               quality=not args.no_quality, log=log)
        text = embedders.table(result)
    elif args.bench_command == "rescan":
        from app.bench import rescan

        result = rescan.run(files=args.files, repeat=args.repeat, embedding_model=args.embedding_model,
                            passphrase=passphrase, log=log)
        text = rescan.table(result)
    elif args.bench_command == "search":
        from app.bench import search

        result = search.run(tuple(args.chunks), repeats=args.repeat, scifact=args.scifact, passphrase=passphrase,
                            log=log)
        text = search.table(result)
    else:
        raise AssertionError(args.bench_command)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log(f"results written to {args.json}")
    return 0
