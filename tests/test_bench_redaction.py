"""``sanctum bench redaction``: the labelled sample is sound, and the table is computed from it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from app.bench import redaction
from tests.conftest import run_cli


def test_the_labelled_sample_is_big_split_in_halves_and_covers_every_kind() -> None:
    items = redaction.load_samples(split="all")
    dev, held = redaction.load_samples(split="dev"), redaction.load_samples(split="held-out")
    assert len(items) >= 200 and len(dev) + len(held) == len(items) and abs(len(dev) - len(held)) <= 4
    assert not {i.id for i in dev} & {i.id for i in held}
    for half in (dev, held):
        kinds = Counter(k for i in half for k, _, _ in i.spans)
        assert set(kinds) == set(redaction.CATEGORIES) and kinds["name"] >= 40, kinds
        assert sum(1 for i in half if not i.spans) >= 35  # hard negatives in each half


def _write(path: Path, rows: list[tuple[str, list[tuple[str, str]]]]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for n, (text, labels) in enumerate(rows):
            spans = [{"start": text.index(s), "end": text.index(s) + len(s), "label": k} for k, s in labels]
            fh.write(json.dumps({"id": f"t{n}", "split": "dev", "text": text, "spans": spans}) + "\n")
    return path


def _row(table: str, kind: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"{kind} "))
    return line.replace("|", " ").split()


@pytest.mark.slow  # three runs of the command, each loading spaCy's model
def test_the_bench_command_computes_its_table_from_the_sample(tmp_path: Path) -> None:
    sample = _write(tmp_path / "small.jsonl", [
        ("Mrs Maria Gonzales was seen today.", [("name", "Maria Gonzales")]),
        ("Card 4111.1111.1111.1111 was declined.", [("card", "4111.1111.1111.1111")]),
        ("Started on Metformin 500 mg.", []),
        ("Reviewed by Dr Sarah Patel.", []),  # deliberately unlabelled: Sanctum's finding counts as false
    ])
    proc = run_cli("bench", "redaction", "--split", "dev", "--samples", str(sample), "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    # kind, spans, then P and R of Sanctum, the rules before, spaCy alone
    assert _row(proc.stdout, "name")[:4] == ["name", "1", "50.0", "100.0"]
    assert _row(proc.stdout, "card")[:6] == ["card", "1", "100.0", "100.0", "—", "0.0"]  # dots: missed before
    counts = json.loads((tmp_path / "r.json").read_text())["counts"]
    assert counts["Sanctum"]["name"] == {"labels": 1, "found": 1, "right": 1, "fp": 1}
    # Label the second name, and the same command reports it right: nothing in the table is fixed.
    _write(sample, [("Reviewed by Dr Sarah Patel.", [("name", "Sarah Patel")])])
    proc = run_cli("bench", "redaction", "--split", "dev", "--samples", str(sample))
    assert _row(proc.stdout, "name")[:4] == ["name", "1", "100.0", "100.0"], proc.stdout


def test_a_broken_sample_file_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "split": "dev", "text": "x", "spans": []}\n{"id": "b", "text": 1}\n')
    proc = run_cli("bench", "redaction", "--samples", str(bad))
    assert proc.returncode == 1 and "bad.jsonl, line 2" in proc.stderr
