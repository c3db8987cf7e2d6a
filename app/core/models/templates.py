"""Render a conversation with the model's own chat template, whatever its family.

The template comes from the GGUF header (``tokenizer.chat_template``, the Jinja text of the
model's ``tokenizer_config.json``) and is rendered with llama-cpp-python's
``Jinja2ChatFormatter`` (the sandboxed Jinja environment Transformers uses). Families differ in
ways a prompt must respect, and this module evens them out before rendering:

- **No system role** (Gemma 2, Mistral 7B v0.1/v0.2, Phi-3 Mini's first template): the template
  raises on a system message or silently drops it. Found by rendering a probe once; the system
  prompt is then folded into the first user turn (as Gemma 3's own template does).
- **Strict alternation** (Mistral, Gemma): consecutive turns of one role are merged, and a
  conversation never starts with the assistant.
- **BOS in the template** (Llama 3, Gemma, Mistral): the rendered text already starts with the
  BOS token, so the caller tokenizes without adding another (see ``ChatModel._tokens``).
- **Reasoning models** (DeepSeek-R1 distills, QwQ): the answer starts with ``<think>…</think>``,
  sometimes with ``<think>`` already in the prompt. :class:`ThinkFilter` keeps that text out of
  the answer.

A model without a template (a base model) gets a documented fallback: a plain
"### Question: / ### Answer:" format (:data:`PLAIN_TEMPLATE`); ``sanctum models`` and the Models
page say "no chat template: a plain question/answer format is used".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from app.core.errors import ModelError

#: The fallback for models without a template of their own (base models).
PLAIN_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}### Question:\n{{ m['content'] }}\n\n"
    "{% else %}### Answer:\n{{ m['content'] }}\n\n{% endif %}"
    "{% endfor %}### Answer:\n"
)
PLAIN_STOP = "### Question:"
NO_TEMPLATE_NOTE = "no chat template: a plain question/answer format is used (answers may be rough)"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
_PROBE_SYSTEM, _PROBE_USER = "SYSTEM-PROBE-7f3a", "USER-PROBE-7f3a"
# What a template raises: raise_exception() gives ValueError; Jinja its own errors; a template that
# indexes messages it was not given, the lookup errors.
_TEMPLATE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, jinja2.TemplateError)


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


class ChatTemplate:
    """A model's chat template, ready to render conversations.

    Args:
        template: The Jinja text; None for the plain fallback.
        bos_token: The text of the model's BOS token ("" when it has none).
        eos_token: The text of its EOS token.
    """

    def __init__(self, template: str | None, *, bos_token: str, eos_token: str) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.fallback = not template
        self.source = template or PLAIN_TEMPLATE
        self.bos_token = bos_token
        self.eos_token = eos_token
        try:
            self._formatter = Jinja2ChatFormatter(template=self.source, eos_token=eos_token, bos_token=bos_token)
        except Exception as exc:  # a Jinja syntax error in the file's template
            raise ModelError(f"the model's chat template cannot be read ({exc}); "
                             "the model file may be damaged or made for another program") from exc
        self.system_role = self._has_system_role()
        try:
            probe = self._render([Turn("user", _PROBE_USER)])
        except _TEMPLATE_ERRORS:
            probe = ""  # a template that needs more than one question; render() will say so when used
        # The answer starts inside a reasoning block the template itself opened (DeepSeek-R1).
        self.opens_thinking = probe.rstrip().endswith(THINK_OPEN)

    def _has_system_role(self) -> bool:
        try:
            out = self._render([Turn("system", _PROBE_SYSTEM), Turn("user", _PROBE_USER)])
        except _TEMPLATE_ERRORS:
            return False  # "System role not supported"
        return _PROBE_SYSTEM in out

    def _render(self, turns: Sequence[Turn]) -> str:
        resp = self._formatter(messages=[{"role": t.role, "content": t.content} for t in turns])
        return str(resp.prompt)

    def stop_strings(self) -> list[str]:
        """Text that ends an answer besides the model's end-of-generation tokens."""
        return [PLAIN_STOP] if self.fallback else []

    def normalize(self, turns: Sequence[Any]) -> list[Turn]:
        """The conversation as this template accepts it (see the module docstring)."""
        system = "\n\n".join(t.content for t in turns if t.role == "system" and t.content)
        rest = [Turn(t.role, t.content) for t in turns if t.role != "system"]
        merged: list[Turn] = []
        for t in rest:
            if merged and merged[-1].role == t.role:
                merged[-1] = Turn(t.role, f"{merged[-1].content}\n\n{t.content}")
            else:
                merged.append(t)
        while merged and merged[0].role != "user":
            merged.pop(0)  # an answer whose question was trimmed away
        if system and self.system_role:
            return [Turn("system", system), *merged]
        if system:
            if merged:
                merged[0] = Turn("user", f"{system}\n\n{merged[0].content}")
            else:
                merged = [Turn("user", system)]
        return merged

    def render(self, turns: Sequence[Any]) -> str:
        """The prompt for ``turns`` (objects with ``role`` and ``content``), ending where the answer starts.

        Raises:
            ModelError: The template refuses the conversation even after normalizing (its message kept).
        """
        try:
            return self._render(self.normalize(turns))
        except Exception as exc:
            raise ModelError(f"the model's chat template refused this conversation ({exc})") from exc


class ThinkFilter:
    """Splits a reasoning model's streamed text into its reasoning and its answer.

    Text between ``<think>`` and ``</think>`` is reasoning; the rest is the answer. Tags split
    across streamed pieces are handled (a partial tag is held back until it is decided).

    Args:
        thinking: Start inside a reasoning block (the prompt opened it).
    """

    def __init__(self, *, thinking: bool = False) -> None:
        self.thinking = thinking
        self.reasoning: list[str] = []
        self._held = ""
        self._after_close = False  # drop the blank lines between </think> and the answer

    def feed(self, text: str) -> str:
        """Take the next piece; return the part of it that belongs to the answer."""
        buf = self._held + text
        self._held = ""
        out: list[str] = []
        if self._after_close and not self.thinking:
            buf = buf.lstrip("\n")
            self._after_close = not buf
        while buf:
            tag = THINK_CLOSE if self.thinking else THINK_OPEN
            at = buf.find(tag)
            if at >= 0:
                (self.reasoning if self.thinking else out).append(buf[:at])
                buf = buf[at + len(tag):]
                self.thinking = not self.thinking
                if not self.thinking:
                    buf = buf.lstrip("\n")  # the blank line after </think>
                    self._after_close = not buf
                continue
            keep = _partial_suffix(buf, tag)
            (self.reasoning if self.thinking else out).append(buf[: len(buf) - keep])
            self._held = buf[len(buf) - keep:]
            break
        return "".join(out)

    def flush(self) -> str:
        """The end of the stream: a held partial tag was text after all."""
        rest, self._held = self._held, ""
        if self.thinking:
            self.reasoning.append(rest)
            return ""
        return rest

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning).strip()


def _partial_suffix(text: str, tag: str) -> int:
    """How many characters at the end of ``text`` could be the start of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


def strip_thinking(text: str) -> tuple[str, str]:
    """(answer, reasoning) of a finished text."""
    f = ThinkFilter()
    answer = f.feed(text) + f.flush()
    return answer, f.reasoning_text
