"""The nomic-embed-text-v1.5 GGUF embedder on llama.cpp: taken out of its PyPI slices and verified by
hash, quantized to Q8_0 by llama.cpp, embedding with its task prefixes and Matryoshka dimensions,
yielding to answers, and working in the real ingest and search."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.errors import ModelError
from app.core.models import nomic
from app.core.models.cpu import CpuGate
from app.core.models.gguf_embedder import GgufEmbedder
from app.core.models.shipped import sha256_file
from tests.conftest import typed_passphrase
from tests.test_pages import make_filing


@pytest.fixture(scope="session")
def nomic_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nomic-home")


@pytest.fixture(scope="session")
def nomic_f16(nomic_home: Path) -> Path:
    """The F16 file as setup makes it (taken out of the installed slices, verified), once."""
    return nomic.nomic_path(nomic_home, "f16")


@pytest.fixture(scope="session")
def gguf_embedder(nomic_f16: Path) -> Iterator[GgufEmbedder]:
    emb = GgufEmbedder(nomic_f16, threads=2)
    yield emb
    emb.close()


@pytest.mark.slow
def test_f16_is_taken_out_of_its_packages_and_matches_the_known_hash(nomic_f16: Path) -> None:
    assert nomic_f16.stat().st_size == nomic.NOMIC_F16.size
    assert sha256_file(nomic_f16) == nomic.NOMIC_F16.sha256


def test_a_damaged_model_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # only the data folder's copy (setup's copy in the environment is whole and would be found first)
    monkeypatch.setattr(nomic, "shipped_models_dir", lambda: tmp_path / "no-shipped-models")
    models = tmp_path / "models"
    models.mkdir()
    (models / nomic.NOMIC_F16.filename).write_bytes(b"GGUF" + b"\0" * 1000)
    with pytest.raises(ModelError, match="truncated"):
        nomic.nomic_path(tmp_path, "f16")
    with pytest.raises(ModelError, match="unknown nomic variant"):
        nomic.nomic_path(tmp_path, "q4")


@pytest.mark.slow
def test_q8_0_is_made_by_llama_cpp_and_verified(nomic_f16: Path, tmp_path: Path) -> None:
    q8 = nomic.quantize(nomic_f16, tmp_path / nomic.NOMIC_Q8.filename)
    assert q8.stat().st_size == nomic.NOMIC_Q8.size
    assert sha256_file(q8) == nomic.NOMIC_Q8.sha256


@pytest.mark.slow
def test_embeds_with_task_prefixes_and_matryoshka_dimensions(gguf_embedder: GgufEmbedder, nomic_f16: Path) -> None:
    emb = gguf_embedder
    assert (emb.doc_prefix, emb.query_prefix) == ("search_document: ", "search_query: ")
    assert emb.id == "nomic-embed-text-v1.5.f16/768" and emb.dimension == 768
    text = "The Eiffel Tower is in Paris."
    doc = emb.embed([text])[0]
    # What llama.cpp itself makes of the prefixed text, normalised.
    raw = np.asarray(emb._llm.embed("search_document: " + text, normalize=False), dtype=np.float32)
    assert np.allclose(doc, raw / np.linalg.norm(raw), atol=1e-5)
    query = emb.embed_query(text)
    assert np.allclose(query, emb.embed([text], prefix="search_query: ")[0], atol=1e-5)
    assert float(query @ doc) < 0.999  # another prefix, another vector
    docs = emb.embed(["Paris is the capital of France.", "Photosynthesis turns light into sugar."])
    q = emb.embed_query("What is the capital of France?")
    assert q @ docs[0] > q @ docs[1] + 0.1
    # Matryoshka: fewer dimensions, still unit vectors, and a vector id of their own.
    small = GgufEmbedder(nomic_f16, dimensions=256, threads=2)
    try:
        v = small.embed(["Paris is the capital of France."])
        assert v.shape == (1, 256) and abs(float(np.linalg.norm(v)) - 1) < 1e-5
        assert small.id == "nomic-embed-text-v1.5.f16/256"
    finally:
        small.close()
    # Chunks are sized with the model's own word-pieces (the tokenizer rebuilt from the GGUF).
    ids = emb.tokenizer("Net sales 2022 grew: $34,229 million", add_special_tokens=False)["input_ids"]
    assert ids == emb._llm.tokenize(b"Net sales 2022 grew: $34,229 million", add_bos=False)


@pytest.mark.slow
def test_embedding_waits_while_an_answer_holds_the_cpu(gguf_embedder: GgufEmbedder) -> None:
    gate = CpuGate()
    done = threading.Event()

    def work() -> None:
        gguf_embedder.embed(["a short text"] * 4, pause=gate.wait_turn)
        done.set()

    with gate.foreground():
        worker = threading.Thread(target=work)
        worker.start()
        time.sleep(1.0)
        assert not done.is_set()  # an answer is being written: the encoder has not started
    worker.join(timeout=120)
    assert done.is_set()


@pytest.mark.slow
def test_the_engine_ingests_and_searches_with_the_gguf_embedder(
        home: Path, tmp_path: Path, nomic_home: Path, gguf_embedder: GgufEmbedder) -> None:
    settings = Settings(embedding_model="nomic-f16")
    with Engine(nomic_home, settings=settings, passphrase=typed_passphrase) as named:
        assert named.embedding_model_path().name == nomic.NOMIC_F16.filename
    folder = tmp_path / "filings"
    folder.mkdir()
    make_filing(folder / "ACME_2022_10K.pdf", "ACME WIDGETS, INC.", 2022, 34_229)
    with Engine(home, settings=settings, embedder=gguf_embedder, passphrase=typed_passphrase) as engine:
        outcomes = engine.ingest_service().ingest([folder])
        assert [o.status for o in outcomes] == ["ingested"]
        assert engine.store.embedder_id == "nomic-embed-text-v1.5.f16/768"
        best = engine.search_service().search("ACME net sales in 2022", k=1)[0]
        assert (Path(best.path).name, best.page) == ("ACME_2022_10K.pdf", 3)
