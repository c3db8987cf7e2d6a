"""The default models are verified; a wrong or truncated model file is refused with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.errors import ModelError
from app.core.models import shipped as models
from app.core.models.gguf import read_gguf_info
from app.core.models.llm import ChatModel, Message
from tests.conftest import sanctum


def test_default_chat_model_is_the_shipped_file(chat_model_path: Path) -> None:
    info = read_gguf_info(chat_model_path)
    assert info.name == "Qwen2.5 Coder 1.5B Instruct GGUF"
    assert info.architecture == "qwen2" and info.quantization == "Q4_K_M"
    assert info.context_length == 32768 and info.has_chat_template
    assert models.sha256_file(chat_model_path) == models.DEFAULT_CHAT.sha256


def test_truncated_gguf_is_refused_with_file_and_reason(chat_model_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with chat_model_path.open("rb") as src, cut.open("wb") as dst:
        dst.write(src.read(50_000_000))
    with pytest.raises(ModelError, match=r"cut\.gguf: the model file is truncated \(50,000,000 bytes"):
        read_gguf_info(cut)


def test_non_gguf_file_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("these are meeting notes, not a model")
    with pytest.raises(ModelError, match=r"notes\.gguf: not a GGUF model file"):
        read_gguf_info(fake)


def test_altered_default_model_fails_verification(chat_model_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / models.DEFAULT_CHAT.filename
    shutil.copyfile(chat_model_path, copy)
    with copy.open("r+b") as fh:
        fh.seek(300_000_000)
        byte = fh.read(1)
        fh.seek(300_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="damaged or altered"):
        models.verify(copy, models.DEFAULT_CHAT, cache_dir=tmp_path)
    copy.write_bytes(b"GGUF")
    with pytest.raises(ModelError, match="truncated"):
        models.verify(copy, models.DEFAULT_CHAT, cache_dir=tmp_path)


def test_verification_is_remembered(chat_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models.verify(chat_model_path, models.DEFAULT_CHAT, cache_dir=tmp_path)
    monkeypatch.setattr(models, "sha256_file", lambda *a, **k: pytest.fail("hashed again"))
    models.verify(chat_model_path, models.DEFAULT_CHAT, cache_dir=tmp_path)


def test_assembling_from_the_installed_slices(tmp_path: Path) -> None:
    target = models.assemble_default_chat(tmp_path)
    assert target.stat().st_size == models.DEFAULT_CHAT.size
    assert not list(tmp_path.glob("*.partial"))


def test_cli_refuses_a_wrong_model_flag(home: Path, tmp_path: Path) -> None:
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.txt").write_text("The boiler was serviced in May.")
    assert sanctum("ingest", str(docs)).returncode == 0
    bad = tmp_path / "broken-model.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 10)
    result = sanctum("--model", str(bad), "ask", "When was the boiler serviced?")
    assert result.returncode == 1
    assert "broken-model.gguf" in result.stderr and "truncated" in result.stderr


def test_other_embedding_folder_is_refused_clearly(home: Path, tmp_path: Path) -> None:
    result = sanctum("--embedding-model", str(tmp_path), "search", "anything")
    assert result.returncode == 1
    assert "not a sentence-transformers model folder" in result.stderr


def test_every_shipped_chat_model_is_installed_verified_and_licensed() -> None:
    root = Path(__file__).resolve().parents[1]
    assert models.DEFAULT_SHIPPED is models.SHIPPED_CHAT_MODELS[0]
    for shipped in models.SHIPPED_CHAT_MODELS:
        path = models.shipped_models_dir() / shipped.file.filename
        models.verify(path, shipped.file)  # raises on a missing, truncated or altered file
        assert read_gguf_info(path).has_chat_template
        licence = root / "resources" / "licenses" / f"{shipped.title.replace('Coder ', 'Coder-').replace(' ', '-')}.txt"
        assert licence.is_file() and "Apache License" in licence.read_text(), licence
        assert models.shipped_model_of(path) is shipped and models.shipped_model_by_key(shipped.key) is shipped


def test_small_test_model_is_verified_and_answers(small_chat_model_path: Path, small_chat: ChatModel,
                                                  tmp_path: Path) -> None:
    info = read_gguf_info(small_chat_model_path)
    assert info.architecture == "llama" and info.has_chat_template
    assert small_chat_model_path.stat().st_size == models.TEST_CHAT_MODEL.size
    answer = "".join(small_chat.stream([Message("user", "What is the capital of France? One word.")],
                                       max_tokens=12, temperature=0.0))
    assert "paris" in answer.lower()
    copy = tmp_path / models.TEST_CHAT_MODEL.filename
    copy.write_bytes(small_chat_model_path.read_bytes()[:-1] + b"\x00")  # same size, one byte altered
    with pytest.raises(ModelError, match="damaged or altered"):
        models.verify(copy, models.TEST_CHAT_MODEL, cache_dir=tmp_path)
