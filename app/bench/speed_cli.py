"""The model/app-side speed benchmarks: ``generation``, ``rag-latency``, ``startup``, ``memory``.

Each prints a table and writes its figures as JSON (``--json``, by default under
``bench-results/``). :mod:`app.bench.cli` hands these sub-commands to :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

COMMANDS = ("generation", "rag-latency", "startup", "memory")
_SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "retrieval" / "scifact"


def add_parsers(bench: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the speed benchmarks under ``sanctum bench``."""
    p = bench.add_parser("generation", help="streaming answer speed vs raw llama-cpp-python (tokens/s, first token)")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds per side (default 5)")
    p.add_argument("--max-tokens", type=int, default=128, help="tokens generated per round (default 128)")
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature, 0 = greedy (default 0)")
    _common(p, "generation")

    p = bench.add_parser("rag-latency", help="time to first token of an answer, by stage, and of a follow-up")
    p.add_argument("--docs", type=int, default=200, help="SciFact abstracts in the library (default 200)")
    p.add_argument("--questions", type=int, default=3, choices=[1, 2, 3], help="question pairs to time (default 3)")
    p.add_argument("--top-k", type=int, default=5, help="passages per answer (default 5, Sanctum's default)")
    p.add_argument("--answer-tokens", type=int, default=48, help="tokens each answer may take (default 48)")
    p.add_argument("--scifact", type=Path, default=_SCIFACT, metavar="DIR",
                   help="a BEIR SciFact folder (corpus.jsonl); default: ../shared/data/retrieval/scifact")
    _common(p, "rag-latency")

    p = bench.add_parser("startup", help="launch to visible window and to loaded models, vs a bare Qt window")
    p.add_argument("--rounds", type=int, default=3, help="launches per side (default 3)")
    p.add_argument("--no-models", action="store_true", help="time the window only, not the model loads")
    _common(p, "startup", threads=False)

    p = bench.add_parser("memory", help="peak RSS idle, with the model loaded, and ingesting a large PDF")
    p.add_argument("--pages", type=int, default=600, help="pages in the generated PDF (default 600)")
    p.add_argument("--no-window", action="store_true", help="measure the ingests only, not the desktop app")
    _common(p, "memory", threads=False)


def _common(p: argparse.ArgumentParser, name: str, *, threads: bool = True) -> None:
    if threads:
        p.add_argument("--threads", type=int, default=0,
                       help="llama.cpp threads for both sides (default 0: Sanctum's setting, i.e. llama.cpp's choice)")
    p.add_argument("--json", type=Path, metavar="FILE", default=Path("bench-results") / f"{name}.json",
                   help=f"where to write the figures (default bench-results/{name}.json)")


def run(args: argparse.Namespace) -> int:
    """Run the speed benchmark named by ``args.bench_command``; returns the exit code."""
    result: dict[str, Any]
    if args.bench_command == "generation":
        from app.bench import generation as bench

        result = bench.run(_chat_model_path(args), rounds=args.rounds, max_tokens=args.max_tokens,
                           temperature=args.temperature, threads=args.threads)
    elif args.bench_command == "rag-latency":
        from app.bench import rag as bench  # type: ignore[no-redef]

        result = bench.run(args.scifact, docs=args.docs, questions=args.questions, threads=args.threads,
                           top_k=args.top_k, answer_tokens=args.answer_tokens, chat_model=args.model,
                           embedding_model=args.embedding_model)
    elif args.bench_command == "startup":
        from app.bench import startup as bench  # type: ignore[no-redef]

        result = bench.run(rounds=args.rounds, models=not args.no_models)
    elif args.bench_command == "memory":
        from app.bench import memory as bench  # type: ignore[no-redef]

        result = bench.run(pages=args.pages, window=not args.no_window)
    else:
        raise AssertionError(args.bench_command)
    print(bench.table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"(figures written to {args.json})", file=sys.stderr)
    return 0


def _chat_model_path(args: argparse.Namespace) -> Path:
    """The chat model a default Sanctum would use (``--model`` overrides), verified."""
    if getattr(args, "model", None):
        return Path(args.model).expanduser()
    from app.core.config import data_dir
    from app.core.models import shipped as models

    return models.default_chat_model(data_dir())
