"""The ``sanctum bench`` command group: each benchmark adds its own sub-command here."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.privacy.keys import PassphraseProvider


def add_parsers(bench: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the benchmarks under ``sanctum bench``."""
    p = bench.add_parser("retrieval", help="retrieval quality on a BEIR dataset (nDCG@10, recall, MRR, latency)")
    p.add_argument("--beir", type=Path, required=True, metavar="DIR",
                   help="a BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv")
    p.add_argument("--split", default="test", help="which qrels file to evaluate (default: test)")
    p.add_argument("--mode", choices=["dense", "keyword", "rrf", "hybrid", "all"], default="all",
                   help="retrieval mode (default: all, side by side; rrf is the plain-fusion baseline)")
    p.add_argument("--home", type=Path, metavar="DIR",
                   help="keep the benchmark's library here and reuse it on the next run (default: a temporary one)")
    p.add_argument("--no-header", action="store_true",
                   help="embed chunks without their document's title in front (a fresh --home is needed)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")

    p = bench.add_parser("keyword-index", help="build/save/load/query times of the keyword index at scale")
    p.add_argument("--chunks", type=int, default=100_000, help="chunks in the synthetic library (default 100000)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")

    p = bench.add_parser("forgetting",
                         help="what compacting the store after a removal costs, and one Argon2id derivation")
    p.add_argument("--chunks", type=int, default=20_000, help="chunks in the synthetic store (default 20000)")

    p = bench.add_parser("encryption",
                         help="what sealing chunk text costs the vector store, vs pass-through and raw Chroma")
    p.add_argument("--chunks", type=int, default=5000, help="chunks (random vectors, repeated text; default 5000)")

    p = bench.add_parser("answers", help="answer quality and speed per model, beside the common RAG pipeline")
    p.add_argument("--questions", type=Path, required=True, metavar="FILE.jsonl",
                   help='one question a line: {"q", "answers": [...], "impossible": bool, "file"?, "page"?}')
    p.add_argument("--docs", type=Path, metavar="DIR",
                   help="ingest these files into a temporary library (default: ask the current library)")
    p.add_argument("--model", type=Path, action="append", default=[], metavar="FILE.gguf",
                   help="a chat model to ask with; repeat to compare (default: the chosen model)")
    p.add_argument("--home", type=Path, metavar="DIR", help="keep the benchmark's library here and reuse it")
    p.add_argument("--no-common", action="store_true", help="leave out the common pipeline")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="llama.cpp threads for prompt and generation (default 0: the app's choice)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override an answer setting for this run, e.g. --set min_coverage=0.4")
    p.add_argument("--during-ingest", type=int, metavar="N",
                   help="then time the first model's answers again while N SciFact abstracts are ingested")
    p.add_argument("--scifact", type=Path, metavar="DIR", help="where SciFact's corpus.jsonl is (--during-ingest)")
    p.add_argument("--quiet", action="store_true", help="no line per question")
    p.add_argument("--json", type=Path, metavar="FILE", default=Path("bench-results") / "answers.json",
                   help="where to write the results (default: bench-results/answers.json)")

    p = bench.add_parser("redaction",
                         help="redaction precision/recall per kind, beside the rules before and spaCy alone")
    p.add_argument("--split", choices=["dev", "held-out", "all"], default="held-out",
                   help="which half of the labelled sample (default: held-out, never tuned on)")
    p.add_argument("--samples", type=Path, metavar="FILE.jsonl", help="another labelled sample (same format)")
    p.add_argument("--misses", action="store_true", help="also list what Sanctum missed or over-redacted")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the counts as JSON")

    p = bench.add_parser("team", help="N members asking and ingesting at once on a shared library and a model "
                         "server (loopback), beside the same work done locally")
    p.add_argument("--clients", type=int, default=4, help="members working at once (1-16, default 4)")
    p.add_argument("--docs", type=int, default=3, help="documents each member adds (default 3)")
    p.add_argument("--asks", type=int, default=2, help="questions each member asks (default 2)")
    p.add_argument("--model", type=Path, metavar="FILE.gguf", help="the chat model (default: this data folder's)")
    p.add_argument("--threads", type=int, default=0, metavar="N", help="llama.cpp threads (default: the app's choice)")
    p.add_argument("--json", type=Path, metavar="FILE", default=Path("bench-results") / "team.json",
                   help="where to write the results (default: bench-results/team.json)")

    p = bench.add_parser("pages", help="page-hit@k in long PDF filings (FinanceBench), beside the common pipeline")
    p.add_argument("--pdfs", type=Path, required=True, metavar="DIR", help="the filings (DOC_NAME.pdf)")
    p.add_argument("--questions", type=Path, required=True, metavar="FILE.jsonl",
                   help="FinanceBench lines (question, doc_name, evidence[].evidence_page_num, 0-based)")
    p.add_argument("--k", default="1,5,10", help="the k of page-hit@k, comma-separated (default 1,5,10)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions, and only their filings")
    p.add_argument("--embedder", metavar="NAME|PATH",
                   help="Sanctum's embedder for this run: a sentence-transformers folder or a .gguf file "
                        "(default: the app's); the common pipeline always uses the shipped MiniLM")
    p.add_argument("--cache", type=Path, metavar="DIR",
                   help="keep both libraries here and reuse them while files, embedder and ingest code are unchanged")
    p.add_argument("--no-common", action="store_true", help="leave out the common pipeline")
    p.add_argument("--narrowing-only", action="store_true",
                   help="no ingest: only which filing each question is narrowed to (seconds, all filings)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results (and each question's rank)")

    p = bench.add_parser("embedder-choice", help="MiniLM/torch vs nomic F16 vs nomic Q8_0: SciFact nDCG@10, "
                         "page-hit@5, chunks/s, query time")
    p.add_argument("--embedders", default="minilm-torch,nomic-f16,nomic-q8_0",
                   help="comma-separated, of minilm-torch, nomic-f16, nomic-q8_0 (default: all three)")
    p.add_argument("--quality", action="store_true", help="SciFact nDCG@10 (hybrid) and, with --pdfs, page-hit@5")
    p.add_argument("--timing", action="store_true", help="chunks/s and query encode time (run on an idle machine)")
    p.add_argument("--scifact", type=Path, required=True, metavar="DIR", help="a BEIR SciFact folder")
    p.add_argument("--split", default="train", help="qrels split (default: train)")
    p.add_argument("--docs", type=int, metavar="N", help="SciFact: the judged abstracts plus others up to N")
    p.add_argument("--scifact-queries", type=int, metavar="N", help="SciFact: only the first N queries")
    p.add_argument("--pdfs", type=Path, metavar="DIR", help="financebench-dev PDFs (page-hit@5)")
    p.add_argument("--questions", type=Path, metavar="FILE.jsonl", help="financebench-dev questions")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions and their filings")
    p.add_argument("--timing-pdf", type=Path, metavar="FILE.pdf", help="the filing whose chunks are timed")
    p.add_argument("--queries", type=int, default=200, help="queries timed one at a time (default 200)")
    p.add_argument("--cache", type=Path, metavar="DIR", help="keep the libraries here between runs")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")

    from app.bench import speed_cli

    speed_cli.add_parsers(bench)
    from app.bench import data_cli  # ingest, embedders, rescan, search

    data_cli.add_parsers(bench)


def run(args: argparse.Namespace, *, passphrase: PassphraseProvider | None) -> int:
    """Run the benchmark named by ``args.bench_command``; returns the exit code."""
    if args.bench_command == "retrieval":
        return _retrieval(args, passphrase)
    if args.bench_command == "keyword-index":
        from app.bench import keyword_index

        figures = keyword_index.run(chunks=args.chunks)
        print(keyword_index.table(figures))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0
    if args.bench_command == "answers":
        return _answers(args, passphrase)
    if args.bench_command == "forgetting":
        from app.bench import forgetting

        print(forgetting.table(forgetting.run(chunks=args.chunks)))
        return 0
    if args.bench_command == "redaction":
        return _redaction(args)
    if args.bench_command == "team":
        from app.bench import team

        return team.main(args, passphrase)
    if args.bench_command == "pages":
        return _pages(args, passphrase)
    if args.bench_command == "embedder-choice":
        return _embedder_choice(args, passphrase)
    if args.bench_command == "encryption":
        from app.bench import encryption

        encryption.main(args.chunks)
        return 0
    from app.bench import speed_cli

    if args.bench_command in speed_cli.COMMANDS:
        return speed_cli.run(args)
    from app.bench import data_cli

    if args.bench_command in data_cli.COMMANDS:
        return data_cli.run(args, passphrase=passphrase)
    raise AssertionError(args.bench_command)


def _retrieval(args: argparse.Namespace, passphrase: PassphraseProvider | None) -> int:
    from app.bench.beir import load_beir
    from app.bench.retrieval import RRF, evaluate, ingest_corpus, report, table
    from app.core.config import Settings
    from app.core.engine import Engine

    beir = load_beir(args.beir, args.split)
    modes = ["dense", "keyword", RRF, "hybrid"] if args.mode == "all" else [args.mode]
    temporary = args.home is None
    home = Path(tempfile.mkdtemp(prefix="sanctum-bench-")) if temporary else args.home.expanduser()
    try:
        settings = Settings(contextual_header=not args.no_header)
        with Engine(home, settings=settings, embedding_model=args.embedding_model, passphrase=passphrase) as engine:
            started = time.perf_counter()
            doc_keys = ingest_corpus(engine, beir)
            ingest_s = time.perf_counter() - started
            print(f"{beir.name} ({beir.split}): {len(beir.queries)} queries, {len(doc_keys)} documents, "
                  f"{engine.store.count()} chunks; library ready in {ingest_s:.1f} s", file=sys.stderr)
            retriever_params = engine.search_service().retriever.params
            results = evaluate(engine, beir, doc_keys, modes=modes, params=retriever_params)
            print(table(results))
            if args.json:
                args.json.write_text(json.dumps(report(engine, beir, results, retriever_params, ingest_s),
                                                indent=2) + "\n", encoding="utf-8")
    finally:
        if temporary:
            shutil.rmtree(home, ignore_errors=True)
    return 0


def _answers(args: argparse.Namespace, passphrase: PassphraseProvider | None) -> int:
    import dataclasses

    from app.bench import answers
    from app.core.config import Settings

    settings = Settings()
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in types:
            print(f"sanctum bench answers: unknown setting '{name}'", file=sys.stderr)
            return 2
        current = getattr(settings, name)
        if current is None:  # an optional setting: a number, or the text as given
            try:
                setattr(settings, name, float(value))
            except ValueError:
                setattr(settings, name, value)
        else:
            setattr(settings, name, type(current)(value) if not isinstance(current, bool) else value == "true")
    settings.validate()

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    folder = None
    if args.during_ingest:
        from app.bench.data_cli import SCIFACT
        from app.bench.rag import write_scifact_files

        folder = Path(tempfile.mkdtemp(prefix="sanctum-bench-ingest-"))
        write_scifact_files((args.scifact or SCIFACT) / "corpus.jsonl", folder, args.during_ingest)
    try:
        report = answers.run(questions_file=args.questions, docs=args.docs, models=args.model, home=args.home,
                             common=not args.no_common, limit=args.limit, threads=args.threads, settings=settings,
                             passphrase=passphrase, log=None if args.quiet else log, ingest_folder=folder)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    if "ingest_s" in report:
        print(f"library: {report['chunks']} chunks, ingested in {report['ingest_s']} s", file=sys.stderr)
    print(answers.table(report["results"]))
    if "during_ingest" in report:
        d = report["during_ingest"]
        print(f"\nduring an ingest ({d['model']}, {d['asked_during_ingest']} answers while {args.during_ingest} "
              f"abstracts were read): whole answer median {d['total_during_ingest_s']} s vs "
              f"{d['total_idle_s']} s idle = {d['slowdown']}x; first token {d['first_token_during_ingest_s']} s "
              f"vs {d['first_token_idle_s']} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


def _redaction(args: argparse.Namespace) -> int:
    from app.bench import redaction

    try:
        items, scores = redaction.run(args.split, args.samples or redaction.SAMPLES)
    except (OSError, ValueError) as exc:
        print(f"sanctum bench redaction: {exc}", file=sys.stderr)
        return 1
    print(redaction.table(items, scores, args.split))
    if args.misses:
        print("\n".join(["", "Sanctum's misses and over-redactions:", *scores["Sanctum"].misses]))
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "items": len(items),
                                         "counts": {n: s.counts for n, s in scores.items()}}, indent=2) + "\n",
                             encoding="utf-8")
    return 0


def _pages(args: argparse.Namespace, passphrase: PassphraseProvider | None) -> int:
    from app.bench import pages

    try:
        ks = sorted({int(k) for k in args.k.split(",") if k.strip()})
    except ValueError:
        print(f"sanctum bench pages: --k takes whole numbers such as 1,5,10, not {args.k!r}", file=sys.stderr)
        return 2
    if not ks or ks[0] < 1:
        print("sanctum bench pages: --k needs numbers of 1 or more", file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.narrowing_only:
        result = pages.narrowing_only(pdfs=args.pdfs, questions_file=args.questions, limit=args.limit)
        for row in result["per_question"]:
            print(f"{row['outcome']:6} {row['doc']:35} {row['q'][:70]}")
        print(f"{result['questions']} questions over {result['filings']} filings: narrowed to the right filing "
              f"{result['right']}, to a set holding it {result['set']}, not narrowed {result['none']}, "
              f"wrongly {result['wrong']}")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return 0
    embedder = Path(args.embedder).expanduser() if args.embedder else args.embedding_model
    report = pages.run(pdfs=args.pdfs, questions_file=args.questions, ks=ks, limit=args.limit, cache=args.cache,
                       embedding_model=embedder, common=not args.no_common, passphrase=passphrase, log=log)
    print(pages.table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


def _embedder_choice(args: argparse.Namespace, passphrase: PassphraseProvider | None) -> int:
    from app.bench import embedder_choice

    names = [n.strip() for n in args.embedders.split(",") if n.strip()]
    unknown = [n for n in names if n not in embedder_choice.EMBEDDERS]
    if unknown or not (args.quality or args.timing):
        print("sanctum bench embedder-choice: " + (f"unknown embedder {unknown[0]!r}; choose from "
              f"{', '.join(embedder_choice.EMBEDDERS)}" if unknown else "choose --quality, --timing or both"),
              file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = embedder_choice.run(embedders=names, quality=args.quality, timing=args.timing, scifact=args.scifact,
                                 split=args.split, docs=args.docs, scifact_queries=args.scifact_queries,
                                 pdfs=args.pdfs, questions=args.questions,
                                 limit=args.limit, timing_pdf=args.timing_pdf, queries=args.queries,
                                 cache=args.cache, passphrase=passphrase, log=log)
    print(embedder_choice.table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
