"""The speed benchmarks run end to end and write their figures (tiny settings; timings are not checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


def _bench(*args: str, out: Path) -> dict:
    result = run_cli("bench", *args, "--json", str(out), env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["benchmark"] == args[0]
    return data


@pytest.mark.slow  # ~25 s: real generations and app starts
def test_generation_and_startup_benchmarks(home: Path, tmp_path: Path) -> None:
    gen = _bench("generation", "--rounds", "1", "--max-tokens", "4", out=tmp_path / "gen.json")
    assert gen["sanctum"]["tokens"] > 0 and gen["raw"]["tokens"] > 0
    assert gen["ratio_tokens_per_s"] is not None
    # The raw side ran with exactly Sanctum's llama.cpp settings.
    assert gen["settings"]["n_ctx"] == 4096 and gen["settings"]["n_threads"] >= 1

    start = _bench("startup", "--rounds", "1", "--no-models", out=tmp_path / "startup.json")
    assert start["sanctum"]["visible_s"] > 0 and start["raw"]["visible_s"] > 0
    # The window shows before torch, Chroma or llama.cpp are imported.
    assert start["heavy_imported_at_visible"] == []


@pytest.mark.slow  # ~13 s: real answers through the CLI
def test_rag_latency_benchmark(home: Path, tmp_path: Path) -> None:
    scifact = tmp_path / "scifact"
    scifact.mkdir()
    docs = [
        ("Vitamin D and fractures", "Vitamin D supplements lowered the risk of hip fractures in older adults by 20%."),
        ("Smoking and cancer", "Smoking raises the risk of lung cancer more than tenfold in a cohort of 30,000."),
        ("MicroRNA", "MicroRNA-21 regulates the PTEN pathway in breast cancer cells."),
    ]
    (scifact / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": str(i), "title": t, "text": x}) + "\n" for i, (t, x) in enumerate(docs)),
        encoding="utf-8")
    rag = _bench("rag-latency", "--scifact", str(scifact), "--docs", "3", "--questions", "1", "--top-k", "2",
                 "--answer-tokens", "16", out=tmp_path / "rag.json")
    row = rag["questions"][0]
    assert row["prompt_tokens"] > 0 and row["first_token_s"] > 0 and row["raw_prompt_eval_s"] > 0
    # The follow-up's prompt starts with the first turn, already in the model's cache.
    assert 0 < row["followup_cached_tokens"] < row["followup_prompt_tokens"]
    assert row["followup_cached_tokens"] >= row["prompt_tokens"] - 1


@pytest.mark.slow  # ~12 s: loads both models in a subprocess
def test_memory_benchmark(home: Path, tmp_path: Path) -> None:
    # The window's figures come from the startup benchmark's watcher, tested above.
    mem = _bench("memory", "--pages", "8", "--no-window", out=tmp_path / "memory.json")
    assert set(mem["ingest"]) == {"2", "8"}
    for figures in mem["ingest"].values():
        assert figures["parent_peak_mb"] > 0 and figures["worker_peak_mb"] > 0
        assert figures["chunks"] > 0
