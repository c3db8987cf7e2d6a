"""Split section text into chunks that fit the embedder's window.

Sizes are counted in the embedder's own word-pieces (all-MiniLM-L6-v2 reads 256 and silently
drops the rest). Each chunk is an exact slice of the section's text, so a citation can quote it
and find it again; neighbouring chunks overlap, and every character lies in some chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.models.embedder import Tokenizer

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?:;][\"')\]]?$")


@dataclass(frozen=True)
class Chunk:
    """A slice ``text[start:end]`` of a section."""

    text: str
    start: int
    end: int


def _break_quality(text: str, end: int) -> int:
    """How good a place ``end`` is to cut: 3 paragraph, 2 sentence, 1 line, 0 inside a line."""
    after = text[end : end + 4]
    if _PARAGRAPH.match(after) or after.startswith("\n\n"):
        return 3
    if _SENTENCE_END.search(text[max(0, end - 3) : end]) and (not after or after[0].isspace()):
        return 2
    if after.startswith("\n"):
        return 1
    return 0


def chunk_text(text: str, tokenizer: Tokenizer, *, size: int, overlap: int) -> list[Chunk]:
    """Cut ``text`` into chunks of at most ``size`` word-pieces sharing ``overlap`` word-pieces.

    Cuts fall on a paragraph, sentence or line end in the last 40% of a window when there is
    one, so a chunk rarely stops mid-sentence.
    """
    if not text.strip():
        return []
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = [(s, e) for s, e in enc["offset_mapping"] if e > s]
    n = len(offsets)
    if n <= size:
        return [_slice(text, 0, len(text))]
    chunks: list[Chunk] = []
    i = 0
    while i < n:
        j = min(i + size, n)
        if j < n:
            best, best_q = j, -1
            for k in range(j, i + int(size * 0.6), -1):
                q = _break_quality(text, offsets[k - 1][1])
                if q > best_q:
                    best, best_q = k, q
                    if q == 3:
                        break
            j = best
        start = 0 if i == 0 else offsets[i][0]
        end = len(text) if j == n else offsets[j - 1][1]
        piece = _slice(text, start, end)
        if piece.text:
            chunks.append(piece)
        if j == n:
            break
        i = max(j - overlap, i + 1)
    return chunks


def _slice(text: str, start: int, end: int) -> Chunk:
    """The slice with surrounding whitespace trimmed (offsets adjusted to match)."""
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    body = raw.strip()
    return Chunk(text=body, start=start + lead, end=start + lead + len(body))
