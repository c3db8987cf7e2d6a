"""The keyword index: BM25 scores, changes one document at a time, encrypted and word-free on disk."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from app.core.crypto import Cipher, DataLocked
from app.core.retrieval.hybrid import fuse
from app.core.storage.keywords import Analyzer, KeywordIndex, KeywordIndexError

KEY = bytes(range(32))


def _index(path: Path, key: bytes = KEY) -> KeywordIndex:
    return KeywordIndex(path, Cipher(key))


def test_analyzer_stems_drops_stop_words_and_joins_thousands() -> None:
    terms = Analyzer().terms("The nursing overtime costs were 48,200 EUR in Ward 7")
    assert terms == ["nurs", "overtim", "cost", "48200", "eur", "ward", "7"]


def test_bm25_scores_match_the_formula(tmp_path: Path) -> None:
    index = _index(tmp_path / "kw.bin")
    index.replace_document("a", [("a:0", "insulin pump insulin"), ("a:1", "heparin drip")])
    index.replace_document("b", [("b:0", "pump maintenance schedule")])
    hits = index.search("insulin", k=5)
    assert [h.chunk_id for h in hits] == ["a:0"]
    n, df, tf, dl = 3, 1, 2, 3
    avgdl = (3 + 2 + 3) / 3
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    k1, b = index.k1, index.b
    expected = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    assert hits[0].score == pytest.approx(expected, rel=1e-5)
    assert [h.doc_id for h in index.search("pumps", k=5)] == ["a", "b"] or \
        [h.doc_id for h in index.search("pumps", k=5)] == ["b", "a"]
    assert index.search("nothing-shared", k=5) == []
    assert [h.chunk_id for h in index.search("pump", k=5, doc_ids=["b"])] == ["b:0"]


def test_add_replace_remove_stay_consistent_across_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "kw.bin"
    index = _index(path)
    index.replace_document("doc1", [("doc1:0", "central line dressing changed weekly")], version="v1")
    index.replace_document("doc2", [("doc2:0", "fire assembly point north car park")], version="v1")
    index.replace_document("doc1", [("doc1:0", "chlorhexidine dressing changed every seven days"),
                                    ("doc1:1", "document the change in the chart")], version="v2")
    assert index.search("weekly", k=5) == [], "the replaced text is still found"
    assert {h.chunk_id for h in index.search("chlorhexidine chart", k=5)} == {"doc1:0", "doc1:1"}
    assert index.remove_document("doc2") and not index.remove_document("doc2")
    assert index.search("assembly", k=5) == []
    index.save()

    reopened = _index(path)
    assert reopened.documents() == {"doc1": ("v2", 2)}
    assert len(reopened) == 2
    for query in ("chlorhexidine", "chart", "dressing days", "assembly", "weekly"):
        assert reopened.search(query, k=5) == index.search(query, k=5)
    reopened.replace_document("doc3", [("doc3:0", "chart review for the night shift")], version="v1")
    assert {h.doc_id for h in reopened.search("chart", k=5)} == {"doc1", "doc3"}


def test_no_plaintext_word_on_disk_and_a_wrong_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kw.bin"
    index = _index(path)
    secret = "Quetzalcoatlumab"
    index.replace_document("d", [("d:0", f"Patient Okonkwo-Lindqvist receives {secret} 40 mg twice daily")])
    index.save()
    for file in tmp_path.rglob("*"):
        data = file.read_bytes().lower()
        for word in (secret, "quetzalcoatlumab", "okonkwo", "lindqvist", "patient", "daili", "receiv"):
            assert word.lower().encode() not in data, f"'{word}' is readable in {file.name}"
            assert word.lower().encode("utf-16-le") not in data
    with pytest.raises(DataLocked):
        _index(path, key=bytes(32))
    assert _index(path).search(secret, k=1)[0].chunk_id == "d:0"


def test_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "kw.bin"
    path.write_bytes(Cipher(KEY).encrypt(b"not an index"))
    with pytest.raises(KeywordIndexError, match="cannot be read"):
        _index(path)


def test_feedback_expansion_adds_terms_of_the_feedback_chunks(tmp_path: Path) -> None:
    index = _index(tmp_path / "kw.bin")
    index.replace_document("a", [("a:0", "statins lower cholesterol and cardiovascular events")])
    index.replace_document("b", [("b:0", "cholesterol lowering reduces myocardial infarction")])
    index.replace_document("c", [("c:0", "vitamin d and bone density")])
    weights = index.query_terms("statins")
    expanded = index.expand(weights, ["a:0"], terms=5, weight=0.5)
    assert set(weights) < set(expanded)
    assert [h.doc_id for h in index.search(weights, k=5)] == ["a"]
    assert [h.doc_id for h in index.search(expanded, k=5)][:2] == ["a", "b"], "feedback found the related chunk"


def test_fusion_normalises_and_weights() -> None:
    dense = np.array([0.9, 0.5, 0.4])
    keyword = np.array([0.0, 12.0, 3.0])
    only_dense = fuse(dense, keyword, dense_weight=1.0)
    assert list(np.argsort(-only_dense)) == [0, 1, 2]
    only_kw = fuse(dense, keyword, dense_weight=0.0)
    assert list(np.argsort(-only_kw)) == [1, 2, 0]
    mixed = fuse(dense, keyword, dense_weight=0.5)
    assert int(np.argmax(mixed)) == 1, "high on both sides beats high on one side"
    rrf = fuse(dense, keyword, dense_weight=0.5, normalise="rrf")
    assert rrf[1] == pytest.approx(0.5 / 62 + 0.5 / 61)
    scaled = fuse(dense * 10, keyword * 100, dense_weight=0.5)
    np.testing.assert_allclose(scaled, mixed), "the scale of either score does not matter"


def test_save_and_load_are_fast_enough_for_a_large_library(tmp_path: Path) -> None:
    """Functional check at 10k chunks (the timed figure for 100k is `sanctum bench keyword-index`)."""
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(5000)])
    index = _index(tmp_path / "kw.bin")
    for d in range(1000):
        chunks = [(f"{d}:{s}", " ".join(rng.choice(words, 60))) for s in range(10)]
        index.replace_document(str(d), chunks)
    index.save()
    size = os.path.getsize(tmp_path / "kw.bin")
    assert size < 10_000 * 60 * 12, size
    reopened = _index(tmp_path / "kw.bin")
    assert len(reopened) == 10_000
    assert reopened.search("w17 w4000", k=10) == index.search("w17 w4000", k=10)
