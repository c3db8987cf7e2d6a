"""A chat model on a team server: any OpenAI-compatible endpoint on the hospital's own network.

llama.cpp's ``llama-server`` (or ``python -m llama_cpp.server``), vLLM and Ollama all speak the same
``POST /v1/chat/completions`` with server-sent events when ``stream`` is true. :class:`RemoteChatModel`
has the interface of :class:`app.core.models.llm.ChatModel` that the answer pipeline uses (``stream``,
``render``, ``count_tokens``, ``yes_probability``, ``prefill``, ``name``, ``context_size``), so evidence,
citations, the check and the timings work the same; the server renders the messages with the model's
own chat template.

The address is typed by the user, never discovered. Plain ``http`` is allowed only to a loopback
address; anything else must be ``https`` (certificates checked against the system store). An API
token, if the server wants one, lives in the OS keyring (:mod:`app.core.privacy.tokens`), never in
settings; the engine hands it in.

Why httpx and not the ``openai`` client: httpx is already installed (chromadb uses it) and is the
client ``openai`` itself is built on; the protocol Sanctum needs is one POST and a line-oriented
event stream, so a second HTTP stack with its own retries and telemetry-free-ness to audit buys
nothing here.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from app.core.config import ServerAddress
from app.core.errors import ModelError
from app.core.models.llm import GenerationStats, Message

# Characters per token used to keep prompts inside the context window when the server cannot
# count tokens for us (OpenAI-compatible servers need not offer /tokenize). English prose runs at
# ~4 characters per token in Llama/Qwen/Mistral vocabularies; 3 leaves room for numbers and names.
_CHARS_PER_TOKEN = 3.0
_CONNECT_TIMEOUT_S = 10.0
_READ_TIMEOUT_S = 300.0  # a long answer on a busy server; the user can always press Stop


class RemoteChatModel:
    """A chat model served by an OpenAI-compatible server; one generation at a time per client.

    Args:
        address: The checked server address (:func:`parse_server_url`).
        context_size: Tokens of context to plan prompts for (the server's own limit may be larger).
        model: The model name to ask for; None: the first the server lists.
        token: A bearer token (from :func:`app.core.privacy.tokens.load_token`); None: none sent.
        verify: TLS verification (True: the system's certificates; a path: a CA bundle file).
    """

    def __init__(self, address: ServerAddress, *, context_size: int, model: str | None = None,
                 token: str | None = None, verify: bool | str = True) -> None:
        import httpx

        self.address = address
        self.context_size = context_size
        self._lock = threading.Lock()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=address.url, headers=headers, verify=verify, trust_env=False,
                                  timeout=httpx.Timeout(_READ_TIMEOUT_S, connect=_CONNECT_TIMEOUT_S))
        self.model = model or self._first_model()

    @property
    def name(self) -> str:
        return f"{self.model} @ {self.address.label}"

    @property
    def path(self) -> str:
        return self.address.url

    def _first_model(self) -> str:
        data = self._get("/v1/models")
        models = [m.get("id") for m in data.get("data", []) if isinstance(m, dict) and m.get("id")]
        if not models:
            raise ModelError(f"the team server {self.address.label} offers no model")
        return str(models[0])

    def _get(self, path: str) -> dict[str, Any]:
        import httpx

        try:
            response = self._http.get(path)
        except httpx.HTTPError as exc:
            raise ModelError(f"the team server {self.address.label} cannot be reached ({_reason(exc)})") from exc
        return self._json(response)

    def _json(self, response: Any) -> dict[str, Any]:
        if response.status_code in (401, 403):
            raise ModelError(f"the team server {self.address.label} refused the API token "
                             f"(HTTP {response.status_code})")
        if response.status_code >= 400:
            raise ModelError(f"the team server {self.address.label} answered HTTP {response.status_code}: "
                             f"{response.text[:200]}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ModelError(f"the team server {self.address.label} did not answer in JSON") from exc
        return data if isinstance(data, dict) else {}

    # -- the ChatModel interface ------------------------------------------------------------

    def render(self, messages: Sequence[Message]) -> tuple[str, list[str]]:
        """A plain rendering of ``messages`` used only to measure the prompt (the server applies
        the model's own template)."""
        return "\n\n".join(f"{m.role}: {m.content}" for m in messages), []

    def count_tokens(self, text: str) -> int:
        """An upper estimate of the tokens ``text`` takes (see ``_CHARS_PER_TOKEN``)."""
        return math.ceil(len(text) / _CHARS_PER_TOKEN)

    def _payload(self, messages: Sequence[Message], **options: Any) -> dict[str, Any]:
        return {"model": self.model, "messages": [{"role": m.role, "content": m.content} for m in messages],
                **options}

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        cancelled: Callable[[], bool] | None = None,
        stats: GenerationStats | None = None,
    ) -> Iterator[str]:
        """Yield the answer's text as the server sends it (see :meth:`ChatModel.stream`)."""
        import httpx

        stats = stats if stats is not None else GenerationStats()
        prompt, _ = self.render(messages)
        stats.prompt_tokens = self.count_tokens(prompt)
        payload = self._payload(messages, max_tokens=max_tokens, temperature=temperature, top_p=0.9, stream=True)
        with self._lock:
            started = time.perf_counter()
            try:
                with self._http.stream("POST", "/v1/chat/completions", json=payload) as response:
                    if response.status_code >= 400:
                        response.read()
                        self._json(response)
                    for text, usage in _events(response.iter_lines()):
                        if usage:
                            stats.prompt_tokens = int(usage.get("prompt_tokens") or stats.prompt_tokens)
                        if cancelled and cancelled():
                            stats.cancelled = True
                            break  # leaving the block closes the connection: the server stops
                        if not text:
                            continue
                        if stats.first_token_s is None:
                            stats.first_token_s = time.perf_counter() - started
                        stats.completion_tokens += 1
                        yield text
            except httpx.HTTPError as exc:
                raise ModelError(f"the team server {self.address.label} stopped answering ({_reason(exc)})") from exc
            finally:
                stats.total_s = time.perf_counter() - started

    def yes_probability(self, messages: Sequence[Message]) -> float:
        """The probability of "yes" as the first answer token, from the server's log-probabilities.

        Raises:
            ModelError: The server gives no log-probabilities (then the answer check cannot use it).
        """
        payload = self._payload(messages, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=20)
        with self._lock:
            import httpx

            try:
                data = self._json(self._http.post("/v1/chat/completions", json=payload))
            except httpx.HTTPError as exc:
                raise ModelError(f"the team server {self.address.label} cannot be reached ({_reason(exc)})") from exc
        try:
            top = data["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"the team server {self.address.label} gives no log-probabilities") from exc
        p_yes = sum(math.exp(t["logprob"]) for t in top if t.get("token", "").strip().lower() == "yes")
        p_no = sum(math.exp(t["logprob"]) for t in top if t.get("token", "").strip().lower() == "no")
        return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5

    def prefill(self, messages: Sequence[Message]) -> int:
        """Nothing to do: the server keeps its own prompt cache."""
        return 0

    def close(self) -> None:
        self._http.close()


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(text, usage) from an OpenAI-style server-sent event stream, until ``[DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # comments (": ping"), event names, blank separators
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError:
            continue
        if isinstance(event, dict) and "error" in event:
            raise ModelError(f"the team server reported an error: {str(event['error'])[:200]}")
        choices = event.get("choices") or [{}]
        delta = choices[0].get("delta") or {}
        yield (delta.get("content") or ""), event.get("usage")


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:160]
