"""The chat model: one llama.cpp instance, one owner, never used from two threads at once.

We render the conversation with the model's own chat template (from the GGUF metadata) into a
prompt string ourselves, so the prompt can be measured in the model's tokens before it is sent
and trimmed to fit the context window. llama-cpp-python keeps the KV cache of the previous
prompt and reuses the longest common prefix, so a follow-up question in the same conversation
does not pay again for the system prompt and earlier turns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import ModelError
from app.core.models.gguf import GGUFInfo, read_gguf_info
from app.core.models.templates import ChatTemplate, ThinkFilter
from app.core.values import Message as Message  # a value type, re-exported for the model's callers


@dataclass
class GenerationStats:
    """Counts and times of one generation, in seconds."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None
    total_s: float = 0.0
    cancelled: bool = False
    thinking: str = ""  # a reasoning model's <think> text, kept out of the answer


class ChatModel:
    """A GGUF chat model loaded with llama-cpp-python.

    Thread rule: one owner (the engine), any thread; a lock lets one generation, prefill or
    judgement use the llama.cpp context at a time (it is not re-entrant), and ``close`` waits for
    the one in progress. The GUI asks from its inference lane only.

    Args:
        path: The .gguf file; its header is checked before llama.cpp sees it.
        context_size: Tokens of context (capped at what the model was trained for).
        threads: CPU threads for both prompt evaluation and generation; 0: every core the OS
            reports. llama.cpp's own default gives generation half the cores (one on a two-core
            PC); Sanctum pauses its other work while an answer is written (app.core.models.cpu), so an
            answer can use them all (``sanctum bench generation --threads N`` measures it).
        adapters: LoRA adapters (GGUF file, scale) applied on top of the model, in order.
    """

    def __init__(self, path: Path, *, context_size: int, threads: int = 0,
                 adapters: Sequence[tuple[Path, float]] = ()) -> None:
        self.info: GGUFInfo = read_gguf_info(Path(path))
        if self.info.context_length:
            context_size = min(context_size, self.info.context_length)
        try:
            from llama_cpp import Llama

            kwargs: dict[str, Any] = {"n_ctx": context_size, "verbose": False, "n_batch": 512}
            threads = threads if threads > 0 else max(1, os.cpu_count() or 1)
            kwargs["n_threads"] = threads
            kwargs["n_threads_batch"] = threads
            self._llm = Llama(model_path=str(path), **kwargs)
        except Exception as exc:
            raise ModelError(f"{path}: llama.cpp could not load this model ({exc})") from exc
        self.path = Path(path)
        self.adapters = [(Path(a), float(s)) for a, s in adapters]
        if self.adapters:
            self._apply_adapters()
        self.context_size = int(self._llm.n_ctx())
        self._lock = threading.Lock()
        self._yes_no: tuple[list[int], list[int]] | None = None
        self.template = self._make_template()

    def _apply_adapters(self) -> None:
        """Load the LoRA adapters and set them on the context (freed with the model)."""
        import ctypes

        import llama_cpp

        handles = []
        for adapter, _scale in self.adapters:
            handle = llama_cpp.llama_adapter_lora_init(self._llm._model.model, str(adapter).encode("utf-8"))
            if not handle:
                self._llm.close()
                raise ModelError(f"{adapter}: llama.cpp could not apply this adapter to {self.info.name} "
                                 "(it was made for another model, or the file is damaged)")
            handles.append(handle)
            self._llm._stack.callback(llama_cpp.llama_adapter_lora_free, handle)
        arr = (llama_cpp.llama_adapter_lora_p_ctypes * len(handles))(*handles)
        scales = (ctypes.c_float * len(handles))(*[s for _, s in self.adapters])
        if llama_cpp.llama_set_adapters_lora(self._llm._ctx.ctx, arr, len(handles), scales):
            self._llm.close()
            raise ModelError(f"{self.path}: llama.cpp could not set its LoRA adapters")

    @property
    def name(self) -> str:
        return self.info.name

    def _make_template(self) -> ChatTemplate:
        template = self._llm.metadata.get("tokenizer.chat_template")
        eos_id, bos_id = self._llm.token_eos(), self._llm.token_bos()
        eos = self._llm._model.token_get_text(eos_id) if eos_id != -1 else ""
        bos = self._llm._model.token_get_text(bos_id) if bos_id != -1 else ""
        return ChatTemplate(template, eos_token=eos, bos_token=bos)

    def render(self, messages: Sequence[Message]) -> tuple[str, list[str]]:
        """The prompt string for ``messages`` (ending where the answer starts) and stop strings."""
        return self.template.render(messages), self.template.stop_strings()

    def tokens(self, prompt: str) -> list[int]:
        """The prompt's tokens with exactly one BOS where the model wants one: templates that
        write the BOS themselves (Llama 3, Gemma, Mistral) must not get a second."""
        toks: list[int] = list(self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        bos = self._llm.token_bos()
        if self._llm._model.add_bos_token() and bos != -1 and toks[:1] != [bos]:
            toks.insert(0, bos)
        return toks

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model, special tokens parsed as the prompt will be."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        cancelled: Callable[[], bool] | None = None,
        stats: GenerationStats | None = None,
    ) -> Iterator[str]:
        """Yield the answer's text as it is generated.

        Holds the model for the whole generation: a second caller waits. When ``cancelled``
        returns True generation stops at the next token and the iterator ends normally with
        ``stats.cancelled`` set.

        Raises:
            ModelError: The prompt does not fit the context window.
        """
        import time

        stats = stats if stats is not None else GenerationStats()
        prompt, stop = self.render(messages)
        tokens = self.tokens(prompt)
        n_prompt = len(tokens)
        stats.prompt_tokens = n_prompt
        if n_prompt + 1 >= self.context_size:
            raise ModelError(f"the prompt ({n_prompt} tokens) does not fit the context window ({self.context_size})")
        max_tokens = max(1, min(max_tokens, self.context_size - n_prompt - 1))
        with self._lock:
            started = time.perf_counter()
            pieces = self._llm.create_completion(
                tokens,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=0.9,
                repeat_penalty=1.1,
                stop=stop or None,
                stream=True,
            )
            think = ThinkFilter(thinking=self.template.opens_thinking)
            try:
                for piece in pieces:
                    if cancelled and cancelled():
                        stats.cancelled = True
                        break
                    text = piece["choices"][0]["text"]
                    if not text:
                        continue
                    if stats.first_token_s is None:
                        stats.first_token_s = time.perf_counter() - started
                    stats.completion_tokens += 1
                    shown = think.feed(text)
                    if shown:
                        yield shown
                if tail := think.flush():
                    yield tail
            finally:
                stats.thinking = think.reasoning_text
                close = getattr(pieces, "close", None)
                if close:
                    close()
                stats.total_s = time.perf_counter() - started

    def yes_probability(self, messages: Sequence[Message]) -> float:
        """How strongly the model answers "yes" to the yes/no question that ends ``messages`` (0..1).

        One forward pass over what the cache does not already hold: asked right after an answer,
        with the answer's conversation as the prefix, only the follow-up question's few tokens are
        evaluated. The probability is that of the first answer token being a "yes" rather than a
        "no" (any casing, with or without a leading space).
        """
        import numpy as np

        prompt, _ = self.render(messages)
        tokens = self.tokens(prompt)
        if len(tokens) + 1 >= self.context_size:
            raise ModelError(f"the prompt ({len(tokens)} tokens) does not fit the context window ({self.context_size})")
        with self._lock:
            self._eval_cached(tokens)
            llm = self._llm
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
        yes, no = self._yes_no_tokens()
        top = logits.max()
        p_yes = float(np.exp(logits[yes] - top).sum())
        p_no = float(np.exp(logits[no] - top).sum())
        return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5

    def _eval_cached(self, tokens: list[int]) -> int:
        """Evaluate ``tokens``, reusing the cached state of the longest prefix already evaluated
        (as llama-cpp-python's own generate does); returns how many were evaluated. The caller
        holds the lock."""
        llm = self._llm
        cached = llm.input_ids[: llm.n_tokens].tolist()
        prefix = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            prefix += 1
        prefix = min(prefix, len(tokens) - 1)  # at least one token is evaluated, for fresh logits
        llm.n_tokens = prefix
        llm.eval(tokens[prefix:])
        return len(tokens) - prefix

    def prefill(self, messages: Sequence[Message]) -> int:
        """Evaluate the start of every prompt (the system prompt) now, so the first question only
        pays for its own part; returns the tokens evaluated. Later prompts that begin with the same
        tokens reuse this state."""
        prompt, _ = self.render(messages)
        tokens = self.tokens(prompt)
        with self._lock:
            return self._eval_cached(tokens)

    def _yes_no_tokens(self) -> tuple[list[int], list[int]]:
        """The first tokens of "yes" and of "no" in their casings, worked out once per model."""
        if self._yes_no is None:
            self._yes_no = (self._answer_tokens(("yes", "Yes", " yes", " Yes", "YES")),
                            self._answer_tokens(("no", "No", " no", " No", "NO")))
        return self._yes_no

    def _answer_tokens(self, words: Sequence[str]) -> list[int]:
        """The first token of each word, once each."""
        ids: list[int] = []
        for word in words:
            toks = self._llm.tokenize(word.encode("utf-8"), add_bos=False, special=False)
            if toks and toks[0] not in ids:
                ids.append(toks[0])
        return ids

    def close(self) -> None:
        """Free the model's memory now rather than at garbage collection."""
        with self._lock:
            llm = getattr(self, "_llm", None)
            if llm is not None:
                llm.close()
                del self._llm
