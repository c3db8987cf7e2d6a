"""The model library: list, add (copy or reference), remove, default, per-conversation models,
quantizing with llama.cpp's quantizer, and LoRA adapters; through the service and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.engine import Engine
from app.core.errors import ModelError
from app.core.models import service as service_module
from app.core.models import shipped
from app.core.models.gguf import read_gguf_info
from app.core.models.llm import ChatModel, Message
from app.core.models.quantize import QuantizeCancelled, quantize
from app.core.models.service import ModelService
from tests.conftest import run_cli, typed_passphrase
from tests.ggufmaker import lora_adapter, tiny_llama

FRANCE = [Message("user", "Name the capital of France in one word.")]


class _Settings:
    """The two settings calls the service makes, on a real Settings object."""

    def __init__(self) -> None:
        self.settings = Settings()

    def get(self) -> Settings:
        return self.settings

    def update(self, **changes: object) -> Settings:
        import dataclasses

        self.settings = dataclasses.replace(self.settings, **changes)
        return self.settings


@pytest.fixture
def library(tmp_path: Path) -> tuple[ModelService, _Settings]:
    s = _Settings()
    return ModelService(tmp_path / "data", settings=s.get, update_settings=s.update), s


def test_lists_bundled_models_with_their_header_and_hash(library: tuple[ModelService, _Settings]) -> None:
    service, _ = library
    views = {v.key: v for v in service.models()}
    qwen = views["qwen-1.5b"]
    assert qwen.bundled and qwen.default and qwen.problem is None
    assert qwen.info is not None and qwen.info.family == "Qwen2.5-Coder" and qwen.info.parameters_label() == "1.5B"
    assert qwen.info.quantization == "Q4_K_M" and qwen.info.context_length == 32768 and qwen.info.has_chat_template
    assert qwen.sha256 == shipped.QWEN_15B.file.sha256
    assert not views["qwen-0.5b"].default


def test_add_by_reference_and_by_copy_then_remove(library: tuple[ModelService, _Settings],
                                                   small_chat_model_path: Path, tmp_path: Path) -> None:
    service, _ = library
    ref = service.add(small_chat_model_path, copy=False)
    assert ref.key == "smollm2-135m-instruct.q4_1" and not ref.copied and ref.path == small_chat_model_path
    assert ref.sha256 == shipped.TEST_CHAT_MODEL.sha256
    assert ref.info is not None and ref.info.licence == "apache-2.0" and ref.info.parameters_label() == "135M"
    with pytest.raises(ModelError, match="already in the library as 'smollm2-135m-instruct.q4_1'"):
        service.add(small_chat_model_path, copy=False)
    copy = service.add(small_chat_model_path, copy=True)  # a second copy may carry other adapters
    assert copy.copied and copy.path.parent == service.library_dir and copy.key.endswith("-2")
    assert shipped.sha256_file(copy.path) == shipped.TEST_CHAT_MODEL.sha256
    assert [v.key for v in service.models(hashes=False)][-2:] == [ref.key, copy.key]
    # The list lives in the data folder, written whole.
    saved = json.loads((service.root / "models.json").read_text())
    assert [m["key"] for m in saved["models"]] == [ref.key, copy.key]

    assert "deleted its copy" in service.remove(copy.key)
    assert not copy.path.exists()
    assert "left where it is" in service.remove(ref.key)
    assert small_chat_model_path.exists()
    with pytest.raises(ModelError, match="bundled with Sanctum and cannot be removed"):
        service.remove("qwen-1.5b")
    with pytest.raises(ModelError, match="no chat model called 'nope'"):
        service.remove("nope")


def test_broken_files_are_refused_with_file_and_reason(library: tuple[ModelService, _Settings],
                                                       small_chat_model_path: Path, tmp_path: Path) -> None:
    service, _ = library
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(small_chat_model_path.read_bytes()[:20_000_000])
    with pytest.raises(ModelError, match=r"cut\.gguf: the model file is truncated"):
        service.add(cut, copy=True)
    notes = tmp_path / "notes.gguf"
    notes.write_text("meeting notes")
    with pytest.raises(ModelError, match=r"notes\.gguf: not a GGUF model file"):
        service.add(notes, copy=False)
    adapter = lora_adapter(tmp_path / "adapter.gguf", small_chat_model_path)
    with pytest.raises(ModelError, match="this is a LoRA adapter, not a model"):
        service.add(adapter, copy=False)
    embedder = tiny_llama(tmp_path / "embed.gguf", extra_kv={"llama.pooling_type": 1})
    with pytest.raises(ModelError, match="this is an embedding model"):
        service.add(embedder, copy=False)
    assert not service.registry.entries() and not list(tmp_path.glob("data/models/library/*"))


def test_hashes_are_remembered(library: tuple[ModelService, _Settings], small_chat_model_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    service, _ = library
    service.add(small_chat_model_path, copy=False)
    monkeypatch.setattr(shipped, "sha256_file", lambda *a, **k: pytest.fail("hashed again"))
    assert service.models()[-1].sha256 == shipped.TEST_CHAT_MODEL.sha256


def test_default_model_and_its_removal(library: tuple[ModelService, _Settings], small_chat_model_path: Path) -> None:
    service, s = library
    view = service.add(small_chat_model_path, copy=False)
    service.set_default(view.key)
    assert s.settings.chat_model == str(small_chat_model_path)
    assert [v.key for v in service.models(hashes=False) if v.default] == [view.key]
    assert service.resolve(None)[0] == small_chat_model_path
    service.set_default("qwen-1.5b")
    assert s.settings.chat_model is None  # the bundled default is "no choice made"
    service.set_default(view.key)
    assert "bundled default model again" in service.remove(view.key)
    assert s.settings.chat_model is None
    # A file chosen in Settings without being added is listed as what answers, and explained.
    s.update(chat_model=str(small_chat_model_path))
    unlisted = service.models(hashes=False)[-1]
    assert unlisted.default and not unlisted.listed and unlisted.path == small_chat_model_path
    with pytest.raises(ModelError, match="chosen in Settings and is not in the list"):
        service.remove(unlisted.key)


@pytest.mark.slow
def test_a_conversation_keeps_its_model_and_the_engine_swaps(home: Path, small_chat_model_path: Path) -> None:
    with Engine(home, passphrase=typed_passphrase) as engine:
        key = engine.model_service().add(small_chat_model_path, copy=False).key
        store = engine.conversations()
        conv = store.create("Ward protocols")
        store.set_model(conv.conv_id, key)
        assert store.get(conv.conv_id).model_key == key
        store.rename(conv.conv_id, "Renamed")
        assert store.get(conv.conv_id).model_key == key  # kept through other changes
        small = engine.chat_model(key)
        assert small.path == small_chat_model_path
        assert engine.chat_model(key) is small  # kept while it is the one asked for
        other = engine.chat_model("qwen-0.5b")  # another conversation, on another model
        assert other.path.name == shipped.QWEN_05B.file.filename
        assert not hasattr(small, "_llm")  # the first was closed: one model in memory at a time
        assert "paris" in "".join(engine.chat_model(key).stream(FRANCE, max_tokens=8, temperature=0.0)).lower()


def test_quantize_a_f16_model_and_refuse_requantizing(tmp_path: Path) -> None:
    src = tiny_llama(tmp_path / "tiny-f16.gguf", f16=True, template=None)
    seen: list[tuple[int, int, str]] = []
    result = quantize(src, "Q4_K_M", progress=lambda d, t, n: seen.append((d, t, n)))
    assert result.output == tmp_path / "tiny-f16-Q4_K_M.gguf"
    info = read_gguf_info(result.output)
    assert info.quantization == "Q4_K_M" and result.output_bytes < result.input_bytes / 2
    assert seen and seen[-1][0] == seen[-1][1] == len(read_gguf_info(src).tensors)
    model = ChatModel(result.output, context_size=256, threads=1)
    try:
        list(model.stream([Message("user", "hello")], max_tokens=2, temperature=0.0))
        assert model.count_tokens("hello") > 0
    finally:
        model.close()
    with pytest.raises(ModelError, match=r"already quantized \(Q4_K_M\).*second rounding error.*--allow-requantize"):
        quantize(result.output, "Q8_0")
    with pytest.raises(ModelError, match="already exists"):
        quantize(src, "Q4_K_M")


def test_quantize_can_be_cancelled(tmp_path: Path) -> None:
    src = tiny_llama(tmp_path / "tiny.gguf", template=None)
    calls: list[int] = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(QuantizeCancelled, match="stopped; nothing was written"):
        quantize(src, "Q8_0", cancelled=cancelled)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.gguf"]


@pytest.mark.slow
def test_cli_requantizes_the_test_model_and_it_answers(home: Path, small_chat_model_path: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "smol-q8.gguf"
    refused = run_cli("models", "quantize", str(small_chat_model_path), "--type", "Q8_0", "-o", str(out))
    assert refused.returncode == 1 and "already quantized (Q4_1)" in refused.stderr and not out.exists()
    done = run_cli("models", "quantize", str(small_chat_model_path), "--type", "Q8_0", "-o", str(out),
                   "--allow-requantize", "--add")
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out} (Q8_0)" in done.stdout and "Added 'smol-q8'" in done.stdout
    model = ChatModel(out, context_size=512, threads=2)
    try:
        assert read_gguf_info(out).quantization == "Q8_0"
        assert "paris" in "".join(model.stream(FRANCE, max_tokens=8, temperature=0.0)).lower()
    finally:
        model.close()
    listed = json.loads(run_cli("models", "--json").stdout)
    row = next(m for m in listed["chat_models"] if m["key"] == "smol-q8")
    assert row["quantization"] == "Q8_0" and row["family"] == "smollm2" and row["chat_template"]
    assert row["sha256"] == shipped.sha256_file(out) and row["parameters_label"] == "135M"


def _greedy(path: Path, adapters: list[tuple[Path, float]]) -> str:
    model = ChatModel(path, context_size=512, threads=2, adapters=adapters)
    try:
        return "".join(model.stream(FRANCE, max_tokens=12, temperature=0.0))
    finally:
        model.close()


@pytest.mark.slow
def test_lora_adapter_scale_zero_is_the_base_and_a_scale_changes_it(small_chat_model_path: Path,
                                                                    tmp_path: Path) -> None:
    adapter = lora_adapter(tmp_path / "ward-style.gguf", small_chat_model_path)
    base = _greedy(small_chat_model_path, [])
    assert _greedy(small_chat_model_path, [(adapter, 0.0)]) == base
    assert _greedy(small_chat_model_path, [(adapter, 1.0)]) != base


@pytest.mark.slow
def test_adapters_through_the_library_reset_the_loaded_model(home: Path, small_chat_model_path: Path,
                                                             tmp_path: Path) -> None:
    adapter = lora_adapter(tmp_path / "ward-style.gguf", small_chat_model_path)
    mismatched = lora_adapter(tmp_path / "other.gguf", small_chat_model_path,
                              shape_of=tiny_llama(tmp_path / "tiny.gguf"))
    with Engine(home, passphrase=typed_passphrase) as engine:
        service = engine.model_service()
        key = service.add(small_chat_model_path, copy=False).key
        with pytest.raises(ModelError, match=r"other\.gguf: the adapter's blk\.0\.attn_q\.weight has the shape "
                                             r"256×256.*made for another model"):
            service.add_adapter(key, mismatched, scale=1.0)
        with pytest.raises(ModelError, match="bundled with Sanctum and is left as shipped"):
            service.add_adapter("qwen-0.5b", adapter)
        before = engine.chat_model(key)
        service.add_adapter(key, adapter, scale=0.8)
        assert not hasattr(before, "_llm")  # unloaded: its cached prompt state was made without the adapter
        after = engine.chat_model(key)
        assert after is not before and after.adapters == [(adapter, 0.8)]
        assert service.get(key).adapters[0].scale == 0.8
        service.remove_adapter(key, "ward-style.gguf")
        assert engine.chat_model(key).adapters == []


def test_cli_lists_adds_and_removes(home: Path, small_chat_model_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "My Model.gguf"
    shutil.copyfile(small_chat_model_path, copy)
    added = run_cli("models", "add", str(copy), "--reference")
    assert added.returncode == 0, added.stderr
    assert "Added 'my-model' (referenced where it lies): smollm2 · 135M parameters · Q4_1" in added.stdout
    adapter = lora_adapter(tmp_path / "style.gguf", small_chat_model_path)
    assert run_cli("models", "adapter", "add", "my-model", str(adapter), "--scale", "0.5").returncode == 0
    assert json.loads(run_cli("models", "adapter", "list", "my-model", "--json").stdout) == [
        {"path": str(adapter), "scale": 0.5}]
    listing = run_cli("models").stdout
    assert "* qwen-1.5b" in listing and "  my-model" in listing and "+ adapter style.gguf at scale 0.5" in listing
    assert f"sha256 {shipped.TEST_CHAT_MODEL.sha256}" in listing and "licence apache-2.0" in listing
    assert run_cli("models", "default", "my-model").returncode == 0
    assert "* my-model" in run_cli("models").stdout
    bad = run_cli("models", "add", str(tmp_path / "missing.gguf"))
    assert bad.returncode == 1 and "missing.gguf: no such model file" in bad.stderr
    gone = run_cli("models", "remove", "my-model")
    assert gone.returncode == 0 and "left where it is" in gone.stdout and copy.exists()


def test_service_is_the_only_way_in() -> None:
    """Front ends import the service, not the registry (house habit 2)."""
    root = Path(__file__).resolve().parents[1] / "app"
    for front in [*root.glob("cli/*.py"), *root.glob("gui/**/*.py")]:
        text = front.read_text()
        assert "models.registry" not in text, front
    assert service_module.ModelService


@pytest.mark.slow
def test_cli_asks_with_a_chosen_model(home: Path, small_chat_model_path: Path, tmp_path: Path) -> None:
    doc = tmp_path / "ward.txt"
    doc.write_text("Central line dressings are changed every 7 days on Ward 4.")
    assert run_cli("ingest", str(doc)).returncode == 0
    assert run_cli("models", "add", str(small_chat_model_path), "--reference").returncode == 0
    result = run_cli("ask", "How often are central line dressings changed?", "--with-model",
                     "smollm2-135m-instruct.q4_1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"] == read_gguf_info(small_chat_model_path).name
    unknown = run_cli("ask", "How often?", "--with-model", "nope")
    assert unknown.returncode == 1 and "no chat model called 'nope'" in unknown.stderr
