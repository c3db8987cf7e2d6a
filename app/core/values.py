"""Value types shared across the core's rooms (plain, frozen data; no behaviour, no imports).

They sit at the bottom of the layers (see docs/architecture.md) so that two rooms that may not
import each other, such as ``models`` (the chat model reads messages) and ``storage`` (saved
conversations turn into messages), can both use them. Front ends may import them too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Message"]


@dataclass(frozen=True)
class Message:
    """One turn of a conversation."""

    role: str  # "system" | "user" | "assistant"
    content: str
