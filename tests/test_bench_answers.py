"""``sanctum bench answers``: its scoring, the common pipeline's splitter, and a whole run (tiny set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.bench.answers import Question, citation_right, is_right, normalize, split_text
from app.core.models import shipped as models
from tests import docmaker
from tests.conftest import run_cli


def test_scoring_follows_squad() -> None:
    q = Question("Which drug?", ["Apixaban"], False, file="minutes.pdf", page=4)
    assert normalize("The  Apixaban, (5 mg)!") == "apixaban 5 mg"
    assert is_right(q, "It is apixaban.", declined=False)
    assert not is_right(q, "It is apixaban.", declined=True), "an answer that declines is not right"
    assert not is_right(q, "Rivaroxaban", declined=False)
    assert not is_right(Question("Which?", ["5 mg"], False), "15 mg", declined=False), "whole words only"
    impossible = Question("Parking fee?", [], True)
    assert is_right(impossible, "The documents do not say.", declined=True)
    assert not is_right(impossible, "£2.60", declined=False)
    assert citation_right(q, [{"path": "/x/minutes.pdf", "page": 4}]) is True
    assert citation_right(q, [{"path": "/x/minutes.pdf", "page": 3}]) is False
    assert citation_right(impossible, []) is None


def test_common_splitter_makes_1000_character_chunks_that_overlap() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 60 for i in range(40))
    chunks = split_text(text)
    assert len(chunks) > 5 and all(len(c) <= 1000 for c in chunks)
    assert all(a[-50:].split()[-1] in b for a, b in zip(chunks, chunks[1:], strict=False)), "neighbours overlap"


@pytest.mark.slow
def test_bench_answers_runs_both_pipelines_and_writes_json(home: Path, tmp_path: Path,
                                                           small_chat_model_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    docmaker.make_pdf(docs / "minutes.pdf", ["Attendance and apologies.",
                                             "Decision: apixaban replaces rivaroxaban as first-line treatment."])
    docmaker.make_xlsx(docs / "rota.xlsx", {"Ward 4": [["Name", "Role", "Bleep"], ["Hana Sato", "Nurse", 4471]]})
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"q": "Which drug is now first-line treatment?", "answers": ["apixaban"], "impossible": False,
         "file": "minutes.pdf", "page": 2},
        {"q": "What is the bleep number of Hana Sato?", "answers": ["4471"], "impossible": False, "file": "rota.xlsx"},
        {"q": "What is the bleep number of Marta Lindqvist?", "answers": [], "impossible": True},
    ]) + "\n", encoding="utf-8")
    small = models.shipped_models_dir() / models.QWEN_05B.file.filename
    out = tmp_path / "answers.json"
    result = run_cli("bench", "answers", "--questions", str(questions), "--docs", str(docs), "--model", str(small),
                     "--model", str(small_chat_model_path), "--json", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    sanctum = report["results"]["sanctum · Qwen2.5 Coder 0.5B Instruct AWQ"]
    common = report["results"]["common · Qwen2.5 Coder 0.5B Instruct AWQ"]
    for summary in (sanctum, common):
        assert (summary["answerable"], summary["impossible"], summary["citations_checked"]) == (2, 1, 2)
    assert sanctum["declined_right"] == 1, "a question about a name the documents never mention is declined"
    assert "answerable right" in result.stdout and "common · " in result.stdout and "sanctum · " in result.stdout
    outcomes = report["outcomes"]["sanctum · Qwen2.5 Coder 0.5B Instruct AWQ"]
    assert [o["impossible"] for o in outcomes] == [False, False, True]
    assert report["chunks"] >= 2
    # Several models side by side, each with its file size and the memory it took.
    smol = report["results"]["sanctum · Smollm2 135M 8k Lc100K Mix1 Ep2"]
    assert (smol["answerable"], smol["impossible"]) == (2, 1)
    assert sanctum["model_file_mb"] == 491.4 and smol["model_file_mb"] == 98.4
    assert sanctum["rss_peak_mb"] > 300 and smol["rss_peak_mb"] > 100
    header = next(line for line in result.stdout.splitlines() if "sanctum · " in line)
    assert header.index("Qwen2.5 Coder 0.5B") < header.index("Smollm2 135M")
    assert "peak memory (RSS) MB" in result.stdout and "model file MB" in result.stdout
