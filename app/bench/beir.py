"""BEIR folders (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv) and the usual ranking metrics."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import SanctumError
from app.core.ingest.textitems import TextItem


class BenchmarkError(SanctumError):
    """A benchmark's input is missing or malformed."""


@dataclass(frozen=True)
class BeirSet:
    """One split of a BEIR dataset.

    Attributes:
        folder: The dataset folder.
        split: The qrels file's name ("train", "test").
        queries: query id -> text, for the queries that have judgements in this split.
        qrels: query id -> {doc id: relevance}.
    """

    folder: Path
    split: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def name(self) -> str:
        return self.folder.name

    def corpus(self) -> Iterator[TextItem]:
        """The documents, read lazily."""
        for line_no, obj in _jsonl(self.folder / "corpus.jsonl"):
            try:
                yield TextItem(key=str(obj["_id"]), title=obj.get("title") or None, text=str(obj.get("text") or ""))
            except KeyError as exc:
                raise BenchmarkError(f"corpus.jsonl line {line_no}: no {exc} field") from exc


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    if not path.is_file():
        raise BenchmarkError(f"{path} is missing (a BEIR folder has corpus.jsonl, queries.jsonl and qrels/)")
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(line)
            except ValueError as exc:
                raise BenchmarkError(f"{path.name} line {line_no} is not JSON ({exc})") from exc


def load_beir(folder: Path, split: str) -> BeirSet:
    """Read a BEIR folder's queries and the judgements of one split."""
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        found = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        raise BenchmarkError(f"{qrels_path} is missing" + (f"; splits here: {', '.join(found)}" if found else ""))
    qrels: dict[str, dict[str, int]] = {}
    for line_no, line in enumerate(qrels_path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        if line_no == 1 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # header row
        if len(parts) < 3:
            if line.strip():
                raise BenchmarkError(f"{qrels_path.name} line {line_no}: expected query-id, corpus-id, score")
            continue
        qid, did, score = parts[0].strip(), parts[1].strip(), int(parts[-1])
        qrels.setdefault(qid, {})[did] = score
    all_queries = {str(obj["_id"]): str(obj["text"]) for _, obj in _jsonl(folder / "queries.jsonl")}
    queries = {qid: all_queries[qid] for qid in qrels if qid in all_queries}
    if not queries:
        raise BenchmarkError(f"no query of {qrels_path.name} is in queries.jsonl")
    return BeirSet(folder=folder, split=split, queries=queries, qrels=qrels)


def ndcg_at(ranked: Sequence[str], rels: dict[str, int], k: int) -> float:
    """nDCG@k with linear gains (as pytrec_eval, which BEIR uses)."""
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], rels: dict[str, int], k: int) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], rels: dict[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0
