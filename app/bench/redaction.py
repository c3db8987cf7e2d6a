"""``sanctum bench redaction``: precision and recall of redaction per kind of personal data.

The labelled sample is ``resources/bench/redaction/samples.jsonl`` (one item a line: ``text``,
``spans`` with ``start``/``end``/``label``, and a fixed ``split``: "dev" for tuning, "held-out"
never tuned on). Three redactors are scored on the same items in the same run:

- **Sanctum**: :func:`app.core.privacy.redact.find_personal_data`, every kind;
- **rules before**: the rules before issue 12 (:mod:`app.bench.redaction_baseline`), no names;
- **spaCy alone**: the PERSON entities of the same spaCy model, unfiltered (names only).

How it is counted, per kind:

- recall: a labelled span counts as found when every non-space character of it is inside some
  finding (it is gone from the redacted text, whatever label replaced it);
- precision: a finding of that kind counts as right when it overlaps a labelled span, and as a
  false positive (over-redaction) when it touches none.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "bench" / "redaction" / "samples.jsonl"
SPLITS = ("dev", "held-out", "all")
CATEGORIES = ("name", "phone", "email", "iban", "card", "dob", "nhs", "ssn")
Span = tuple[str, int, int]  # kind, start, end
Finder = Callable[[str], list[Span]]


@dataclass(frozen=True)
class Item:
    id: str
    split: str
    text: str
    spans: list[Span]


@dataclass
class Score:
    """Counts for one redactor; ``misses`` lists what it missed or over-redacted, for tuning."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in (*CATEGORIES, "all")})
    misses: list[str] = field(default_factory=list)

    def precision(self, kind: str) -> float | None:
        c = self.counts[kind]
        return c["right"] / (c["right"] + c["fp"]) if c["right"] + c["fp"] else None

    def recall(self, kind: str) -> float | None:
        c = self.counts[kind]
        return c["found"] / c["labels"] if c["labels"] else None


def load_samples(path: Path = SAMPLES, split: str = "all") -> list[Item]:
    """The labelled items of ``split`` ("dev", "held-out" or "all").

    Raises:
        ValueError: A line is not a well-formed item (the message names the line).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}': choose {', '.join(SPLITS)}")
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row["text"]
            spans = [(s["label"], int(s["start"]), int(s["end"])) for s in row["spans"]]
            item = Item(id=str(row["id"]), split=str(row["split"]), text=text, spans=spans)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {n}: not a labelled item ({exc})") from exc
        if item.split not in ("dev", "held-out") or any(
                k not in CATEGORIES or not 0 <= s < e <= len(text) for k, s, e in spans):
            raise ValueError(f"{path}, line {n}: unknown split or label, or a span outside the text")
        if split in ("all", item.split):
            items.append(item)
    return items


def score(items: Sequence[Item], finder: Finder, kinds: Sequence[str] = CATEGORIES) -> Score:
    """Count what ``finder`` finds and misses of ``kinds`` in ``items``."""
    result = Score()
    for item in items:
        found = finder(item.text)
        covered = {i for _, s, e in found for i in range(s, e)}
        for kind, s, e in item.spans:
            if kind not in kinds:
                continue
            ok = all(i in covered for i in range(s, e) if not item.text[i].isspace())
            for key in (kind, "all"):
                result.counts[key]["labels"] += 1
                result.counts[key]["found"] += ok
            if not ok:
                result.misses.append(f"{item.id}: missed {kind} {item.text[s:e]!r}")
        for kind, s, e in found:
            right = any(s < le and ls < e for _, ls, le in item.spans)
            for key in (kind, "all"):
                result.counts[key]["right" if right else "fp"] += 1
            if not right:
                result.misses.append(f"{item.id}: false {kind} {item.text[s:e]!r}")
    return result


def sanctum_finder(text: str) -> list[Span]:
    from app.core.privacy.redact import find_personal_data

    return [(f.kind, f.start, f.end) for f in find_personal_data(text)]


def rules_before_finder(text: str) -> list[Span]:
    from app.bench.redaction_baseline import find_personal_data

    return [(f.kind, f.start, f.end) for f in find_personal_data(text)]


def spacy_alone_finder(text: str) -> list[Span]:
    from app.core.privacy.names import model_entities

    return [("name", s, e) for s, e in model_entities(text)]


SYSTEMS: dict[str, tuple[Finder, tuple[str, ...]]] = {
    "Sanctum": (sanctum_finder, CATEGORIES),
    "rules before": (rules_before_finder, CATEGORIES),
    "spaCy alone": (spacy_alone_finder, ("name",)),
}


def run(split: str = "held-out", path: Path = SAMPLES) -> tuple[list[Item], dict[str, Score]]:
    """Score every redactor of :data:`SYSTEMS` on the items of ``split``."""
    items = load_samples(path, split)
    return items, {name: score(items, finder, kinds) for name, (finder, kinds) in SYSTEMS.items()}


def _pct(value: float | None) -> str:
    return "  —  " if value is None else f"{value * 100:5.1f}"


def table(items: Sequence[Item], scores: dict[str, Score], split: str) -> str:
    """The per-kind table: labelled spans, then precision and recall (%) of each redactor."""
    names = list(scores)
    head = f"{'kind':<6} {'spans':>5}" + "".join(f" | {n:^13}" for n in names)
    sub = f"{'':<6} {'':>5}" + "".join(f" | {'P':>6} {'R':>6}" for _ in names)
    lines = [f"redaction, {split} split: {len(items)} items", head, sub, "-" * len(head)]
    for kind in (*CATEGORIES, "all"):
        labels = scores[names[0]].counts[kind]["labels"]
        row = f"{kind:<6} {labels:>5}"
        for n in names:
            s = scores[n]
            kinds = SYSTEMS[n][1] if n in SYSTEMS else CATEGORIES
            if kind != "all" and kind not in kinds:
                row += f" | {'n/a':>6} {'n/a':>6}"
            else:
                row += f" | {_pct(s.precision(kind)):>6} {_pct(s.recall(kind)):>6}"
        lines.append(row)
    lines.append("P: findings of the kind that overlap a labelled span. R: labelled spans fully redacted. "
                 "'all' of spaCy alone counts names only.")
    return "\n".join(lines)
