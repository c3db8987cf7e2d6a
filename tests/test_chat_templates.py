"""Every family's real chat template, in a real GGUF that llama.cpp loads, renders a correct prompt.

Each template in tests/fixtures/chat_templates/ is the family's own text (from its
tokenizer_config.json, as llama.cpp's models/templates keeps them; Qwen 2.5's is read from the
bundled model's header). tests/ggufmaker.py writes a tiny llama model whose header carries that
template and whose vocabulary has the family's special tokens as control tokens, so the checks
below count real llama.cpp tokens, not characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.core.errors import ModelError
from app.core.models import shipped
from app.core.models.gguf import read_gguf_info
from app.core.models.llm import ChatModel, GenerationStats, Message
from app.core.models.templates import NO_TEMPLATE_NOTE, ChatTemplate, ThinkFilter, strip_thinking
from tests.ggufmaker import tiny_llama

TEMPLATES = Path(__file__).parent / "fixtures" / "chat_templates"
SYSTEM = "Answer only from the excerpts."
QUESTION = "What is the dose?"


@dataclass
class Family:
    key: str
    bos: str
    eos: str
    add_bos: bool
    specials: list[str]
    answer_starts: str  # the prompt ends with this: where the model's answer begins
    system_role: bool  # the template has a place for a system prompt
    once: list[str] = field(default_factory=list)  # special tokens that must appear exactly once
    bos_in_prompt: bool = True  # the prompt starts with exactly one BOS token


FAMILIES = [
    Family("llama-3.2", "<|begin_of_text|>", "<|eot_id|>", True,
           ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"],
           "<|start_header_id|>assistant<|end_header_id|>\n\n", True),
    Family("phi-3.5-mini", "<s>", "<|endoftext|>", True, ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
           "<|assistant|>\n", True, once=["<|system|>", "<|user|>", "<|assistant|>"]),
    Family("phi-3-mini", "<s>", "<|endoftext|>", True, ["<|user|>", "<|assistant|>", "<|end|>"],
           "<|assistant|>\n", False, once=["<|user|>", "<|assistant|>"]),
    Family("mistral-7b-v0.2", "<s>", "</s>", True, ["[INST]", "[/INST]"], " [/INST]", False, once=["[INST]"]),
    Family("qwen-2.5", "<|endoftext|>", "<|im_end|>", False, ["<|im_start|>", "<|im_end|>"],
           "<|im_start|>assistant\n", True, bos_in_prompt=False),
    Family("gemma-2", "<bos>", "<eos>", True, ["<start_of_turn>", "<end_of_turn>"], "<start_of_turn>model\n",
           False),
    Family("gemma-3", "<bos>", "<eos>", True, ["<start_of_turn>", "<end_of_turn>"], "<start_of_turn>model\n",
           True),
    Family("granite-3.3", "<|end_of_text|>", "<|end_of_text|>", False, ["<|start_of_role|>", "<|end_of_role|>"],
           "<|start_of_role|>assistant<|end_of_role|>", True, bos_in_prompt=False),
    Family("yi-1.5", "<|startoftext|>", "<|im_end|>", False, ["<|im_start|>", "<|im_end|>"],
           "<|im_start|>assistant\n", True, bos_in_prompt=False),
    Family("internlm-2.5", "<s>", "</s>", True, ["<|im_start|>", "<|im_end|>"], "<|im_start|>assistant\n", True),
    Family("deepseek-r1-distill-qwen", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", True,
           ["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"], "<｜Assistant｜><think>\n", True,
           once=["<｜User｜>", "<｜Assistant｜>"]),
    Family("zephyr", "<s>", "</s>", True, ["<|user|>", "<|system|>", "<|assistant|>"], "<|assistant|>\n", True,
           once=["<|system|>", "<|user|>"]),
]


def _template(key: str) -> str:
    if key == "qwen-2.5":  # the bundled Qwen2.5-Coder's own header holds Qwen 2.5's template
        meta = read_gguf_info(shipped.shipped_models_dir() / shipped.QWEN_05B.file.filename).metadata
        return str(meta["tokenizer.chat_template"])
    return (TEMPLATES / f"{key}.jinja").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def family_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ChatModel]:
    folder = tmp_path_factory.mktemp("families")
    loaded = {}
    for fam in FAMILIES:
        path = tiny_llama(folder / f"{fam.key}.gguf", template=_template(fam.key), specials=fam.specials,
                          bos=fam.bos, eos=fam.eos, add_bos=fam.add_bos, name=fam.key)
        loaded[fam.key] = ChatModel(path, context_size=512, threads=1)
    yield loaded
    for model in loaded.values():
        model.close()


def _count(model: ChatModel, tokens: list[int], text: str) -> int:
    tid = model._llm.tokenize(text.encode(), add_bos=False, special=True)
    assert len(tid) == 1, f"{text!r} is not one token"
    return tokens.count(tid[0])


@pytest.mark.parametrize("fam", FAMILIES, ids=[f.key for f in FAMILIES])
def test_family_prompt(fam: Family, family_models: dict[str, ChatModel]) -> None:
    model = family_models[fam.key]
    assert model.template.system_role is fam.system_role
    prompt, _ = model.render([Message("system", SYSTEM), Message("user", QUESTION)])
    # The system prompt is there once, before the question; where the template has no system
    # role it is folded into the first user turn.
    assert prompt.count(SYSTEM) == 1 and prompt.index(SYSTEM) < prompt.index(QUESTION)
    if not fam.system_role:
        assert f"{SYSTEM}\n\n{QUESTION}" in prompt
    assert prompt.endswith(fam.answer_starts)
    tokens = model.tokens(prompt)
    bos = model._llm.token_bos()
    if fam.bos_in_prompt:
        assert tokens[0] == bos and tokens.count(bos) == 1, "BOS doubled or missing"
    else:  # (Granite's BOS text is also its end-of-turn token, so it may appear later)
        assert tokens[0] != bos, "a BOS the model does not want"
    for special in fam.once:
        assert _count(model, tokens, special) == 1, special
    # The model answers from that prompt (random weights: any text, but real generation).
    stats = GenerationStats()
    list(model.stream([Message("system", SYSTEM), Message("user", QUESTION)], max_tokens=3, temperature=0.0,
                      stats=stats))
    assert stats.prompt_tokens == len(tokens)


def test_llama3_headers_once_per_turn(family_models: dict[str, ChatModel]) -> None:
    model = family_models["llama-3.2"]
    prompt, _ = model.render([Message("system", SYSTEM), Message("user", QUESTION)])
    tokens = model.tokens(prompt)
    assert _count(model, tokens, "<|begin_of_text|>") == 1
    assert _count(model, tokens, "<|start_header_id|>") == 3  # system, user, assistant
    assert _count(model, tokens, "<|eot_id|>") == 2


@pytest.mark.parametrize("key", ["mistral-7b-v0.2", "gemma-2", "gemma-3"])
def test_alternation_holds_for_any_history(key: str, family_models: dict[str, ChatModel]) -> None:
    """A history that starts with an answer, or two questions in a row, still renders (merged)."""
    model = family_models[key]
    history = [Message("system", SYSTEM), Message("assistant", "An earlier answer."), Message("user", "First?"),
               Message("assistant", "Yes."), Message("user", "Second?"), Message("user", QUESTION)]
    prompt, _ = model.render(history)
    assert "An earlier answer." not in prompt  # its question is gone: dropped
    assert "Second?\n\nWhat is the dose?" in prompt
    assert prompt.count(SYSTEM) == 1
    # Left alone, the family's template refuses the very same conversation.
    with pytest.raises(ValueError, match="alternate|System role"):
        model.template._formatter(messages=[{"role": m.role, "content": m.content} for m in history])


def test_reasoning_model_starts_inside_think(family_models: dict[str, ChatModel]) -> None:
    assert family_models["deepseek-r1-distill-qwen"].template.opens_thinking
    assert not family_models["qwen-2.5"].template.opens_thinking


def test_think_text_never_reaches_the_answer(family_models: dict[str, ChatModel],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The streamed pieces of a reasoning model (split inside the tags, as tokens are) yield only the answer."""
    model = family_models["deepseek-r1-distill-qwen"]
    pieces = ["The user asks", " about the dose [1].", "</th", "ink>", "\n\n", "The dose is ", "5 mg [2]."]

    def completion(*args: object, **kwargs: object):  # llama-cpp-python's streamed chunks
        return iter({"choices": [{"text": p}]} for p in pieces)

    monkeypatch.setattr(model._llm, "create_completion", completion)
    stats = GenerationStats()
    shown = list(model.stream([Message("user", QUESTION)], max_tokens=20, temperature=0.0, stats=stats))
    assert "".join(shown) == "The dose is 5 mg [2]."
    assert stats.thinking == "The user asks about the dose [1]."
    assert not any("[1]" in s or "think" in s for s in shown)


@pytest.mark.parametrize("text,answer,reasoning", [
    ("<think>weigh it</think>\n\nIt is 4.", "It is 4.", "weigh it"),
    ("No reasoning here.", "No reasoning here.", ""),
    ("<think>unfinished", "", "unfinished"),
    ("a <thin", "a <thin", ""),  # a partial tag at the very end was text after all
])
def test_strip_thinking(text: str, answer: str, reasoning: str) -> None:
    assert strip_thinking(text) == (answer, reasoning)


def test_think_filter_token_by_token() -> None:
    f = ThinkFilter(thinking=True)
    out = "".join(f.feed(ch) for ch in "hmm, 2+2</think>\n\n4") + f.flush()
    assert out == "4" and f.reasoning_text == "hmm, 2+2"


def test_model_without_template_uses_the_documented_fallback(tmp_path: Path) -> None:
    path = tiny_llama(tmp_path / "base.gguf", template=None)
    model = ChatModel(path, context_size=512, threads=1)
    try:
        assert model.template.fallback
        prompt, stop = model.render([Message("system", SYSTEM), Message("user", QUESTION)])
        assert prompt == f"{SYSTEM}\n\n### Question:\n{QUESTION}\n\n### Answer:"
        assert stop == ["### Question:"]
    finally:
        model.close()
    assert "plain question/answer format" in NO_TEMPLATE_NOTE


def test_broken_template_is_refused_with_reason() -> None:
    with pytest.raises(ModelError, match="chat template cannot be read"):
        ChatTemplate("{% for m in messages %}{{ m.content }", bos_token="", eos_token="")


def test_real_smollm2_template_answers(small_chat: ChatModel) -> None:
    prompt, _ = small_chat.render([Message("system", SYSTEM), Message("user", QUESTION)])
    assert prompt.startswith("<|im_start|>system\n" + SYSTEM) and prompt.endswith("<|im_start|>assistant\n")
    # SmolLM2 wants no BOS added (its BOS id is <|im_start|>, which the template writes itself)
    assert small_chat.tokens(prompt) == small_chat._llm.tokenize(prompt.encode(), add_bos=False, special=True)
    answer = "".join(small_chat.stream([Message("user", "Name the capital of France in one word.")],
                                       max_tokens=8, temperature=0.0))
    assert "paris" in answer.lower()
