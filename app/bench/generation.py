"""Generation benchmark: Sanctum's streaming answer path against raw llama-cpp-python.

Both sides load the same GGUF with the same context, batch and threads, get the same prompt
string and sampling settings (fixed seed, so they generate the same tokens), and are run
alternately, several rounds, so drift on a noisy machine hits both. Reported: decode tokens/s
and time to first token, each as the median over rounds, and Sanctum/raw ratios.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.models.llm import ChatModel, GenerationStats, Message

PROMPT = (
    "Write a detailed handover note for the night shift on a 24-bed cardiology ward: list the "
    "patients who need hourly observations, the medication rounds, the pending blood results and "
    "the escalation plan. Use full sentences."
)


@dataclass
class Side:
    first_token_s: list[float]
    tokens_per_s: list[float]
    tokens: list[int]

    def summary(self) -> dict[str, float]:
        return {
            "first_token_s": round(statistics.median(self.first_token_s), 4),
            "tokens_per_s": round(statistics.median(self.tokens_per_s), 2),
            "tokens": int(statistics.median(self.tokens)),
        }


def _raw_round(
    llm: Any, prompt: str, stop: list[str], *, max_tokens: int, temperature: float, seed: int
) -> tuple[float, float, int]:
    llm.reset()
    llm.set_seed(seed)
    start = time.perf_counter()
    first = None
    count = 0
    for piece in llm.create_completion(prompt, max_tokens=max_tokens, temperature=temperature, top_p=0.9,
                                       repeat_penalty=1.1, stop=stop or None, stream=True):
        if piece["choices"][0]["text"]:
            if first is None:
                first = time.perf_counter()
            count += 1
    end = time.perf_counter()
    assert first is not None, "raw llama.cpp generated nothing"
    return first - start, (count - 1) / (end - first) if count > 1 else 0.0, count


def _sanctum_round(
    model: ChatModel, messages: list[Message], *, max_tokens: int, temperature: float, seed: int
) -> tuple[float, float, int]:
    model._llm.reset()  # same cold cache as the raw side
    model._llm.set_seed(seed)
    stats = GenerationStats()
    start = time.perf_counter()
    first = None
    for _ in model.stream(messages, max_tokens=max_tokens, temperature=temperature, stats=stats):
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    assert first is not None, "Sanctum generated nothing"
    count = stats.completion_tokens
    return first - start, (count - 1) / (end - first) if count > 1 else 0.0, count


def run(
    model_path: Path, *, rounds: int = 5, max_tokens: int = 128, temperature: float = 0.0, context: int = 4096,
    threads: int = 0,
) -> dict[str, Any]:
    """Run the comparison; returns a JSON-ready result.

    ``threads`` 0 means Sanctum's own default; the raw side is then given exactly the thread
    counts Sanctum's model ended up with, so the two differ only in the code around llama.cpp.
    """
    from llama_cpp import Llama

    sanctum = ChatModel(model_path, context_size=context, threads=threads)
    s_llm = sanctum._llm
    raw = Llama(model_path=str(model_path), n_ctx=sanctum.context_size, n_batch=s_llm.n_batch,
                n_threads=s_llm.n_threads, n_threads_batch=s_llm.n_threads_batch, verbose=False)
    settings = {"n_ctx": raw.n_ctx(), "n_batch": raw.n_batch, "n_threads": raw.n_threads,
                "n_threads_batch": raw.n_threads_batch, "temperature": temperature, "top_p": 0.9,
                "repeat_penalty": 1.1}
    sanctum_settings = {"n_ctx": sanctum.context_size, "n_batch": s_llm.n_batch, "n_threads": s_llm.n_threads,
                        "n_threads_batch": s_llm.n_threads_batch}
    assert all(settings[k] == v for k, v in sanctum_settings.items()), (settings, sanctum_settings)
    messages = [Message("user", PROMPT)]
    prompt, stop = sanctum.render(messages)
    s_side, r_side = Side([], [], []), Side([], [], [])
    try:
        _raw_round(raw, prompt, stop, max_tokens=8, temperature=temperature, seed=1)  # page in the weights
        _sanctum_round(sanctum, messages, max_tokens=8, temperature=temperature, seed=1)
        for i in range(rounds):
            seed = 42 + i
            sides = [
                (r_side, lambda: _raw_round(raw, prompt, stop, max_tokens=max_tokens, temperature=temperature,
                                            seed=seed)),  # noqa: B023 (called at once)
                (s_side, lambda: _sanctum_round(sanctum, messages, max_tokens=max_tokens, temperature=temperature,
                                                seed=seed)),  # noqa: B023 (called at once)
            ]
            # Alternate which side goes first, so a trend in the machine's load favours neither.
            for side, one_round in sides if i % 2 == 0 else sides[::-1]:
                ttft, tps, n = one_round()
                side.first_token_s.append(ttft)
                side.tokens_per_s.append(tps)
                side.tokens.append(n)
    finally:
        raw.close()
        sanctum.close()
    s, r = s_side.summary(), r_side.summary()
    return {
        "benchmark": "generation",
        "model": sanctum.name,
        "prompt_tokens": sanctum_prompt_tokens(prompt, model_path),
        "rounds": rounds,
        "max_tokens": max_tokens,
        "settings": settings,
        "sanctum": s,
        "raw": r,
        "per_round": {"sanctum": vars(s_side), "raw": vars(r_side)},
        "ratio_tokens_per_s": round(s["tokens_per_s"] / r["tokens_per_s"], 3) if r["tokens_per_s"] else None,
        "ratio_first_token": round(s["first_token_s"] / r["first_token_s"], 3) if r["first_token_s"] else None,
    }


def sanctum_prompt_tokens(prompt: str, model_path: Path) -> int:
    from llama_cpp import Llama

    vocab = Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    try:
        return len(vocab.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
    finally:
        vocab.close()


def table(result: dict[str, Any]) -> str:
    s, r = result["sanctum"], result["raw"]
    lines = [
        f"generation: {result['model']}, prompt {result['prompt_tokens']} tokens, "
        f"{result['max_tokens']} new tokens, median of {result['rounds']} alternating rounds",
        "same settings both sides: " + ", ".join(f"{k}={v}" for k, v in result["settings"].items()),
        f"{'':22}{'raw llama-cpp':>14}{'Sanctum':>10}{'Sanctum/raw':>13}",
        f"{'decode tokens/s':22}{r['tokens_per_s']:>14.2f}{s['tokens_per_s']:>10.2f}"
        f"{result['ratio_tokens_per_s']:>13.3f}",
        f"{'first token (s)':22}{r['first_token_s']:>14.3f}{s['first_token_s']:>10.3f}"
        f"{result['ratio_first_token']:>13.3f}",
    ]
    return "\n".join(lines)
