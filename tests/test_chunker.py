"""Chunks fit the embedder's window, overlap, and lose no text."""

from __future__ import annotations

import re

import pytest

from app.core.ingest.chunker import chunk_text
from app.core.models.embedder import Embedder

SENTENCES = [
    f"Sentence {i} reports that bed {i % 37} on ward {i % 9} was cleaned at {i % 24:02d}:15 by porter number {i * 7}."
    for i in range(400)
]


def _tokens(embedder: Embedder, text: str) -> int:
    return len(embedder.tokenizer(text, add_special_tokens=False)["input_ids"])


@pytest.mark.parametrize(("size", "overlap"), [(200, 40), (64, 8), (254, 0)])
def test_chunks_fit_the_window_and_cover_every_character(embedder: Embedder, size: int, overlap: int) -> None:
    text = "\n\n".join(" ".join(SENTENCES[i : i + 5]) for i in range(0, len(SENTENCES), 5))
    chunks = chunk_text(text, embedder.tokenizer, size=size, overlap=overlap)
    assert len(chunks) > 10
    covered = [False] * len(text)
    for c in chunks:
        assert text[c.start : c.end] == c.text, "a chunk must be an exact slice of the text"
        assert _tokens(embedder, c.text) <= size
        for i in range(c.start, c.end):
            covered[i] = True
    lost = "".join(ch for ch, cov in zip(text, covered, strict=True) if not cov)
    assert lost.strip() == "", f"text lost between chunks: {lost.strip()[:80]!r}"
    if overlap:
        assert all(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False)), "neighbours must overlap"


def test_cuts_prefer_sentence_ends(embedder: Embedder) -> None:
    text = " ".join(SENTENCES[:200])
    chunks = chunk_text(text, embedder.tokenizer, size=120, overlap=0)
    ends_on_sentence = sum(1 for c in chunks[:-1] if re.search(r"\.$", c.text))
    assert ends_on_sentence >= 0.9 * (len(chunks) - 1)


def test_default_window_matches_the_model(embedder: Embedder) -> None:
    assert embedder.max_tokens == 256
    assert embedder.content_tokens == 254  # [CLS] and [SEP] take two


def test_short_and_empty_text(embedder: Embedder) -> None:
    assert chunk_text("  \n ", embedder.tokenizer, size=200, overlap=40) == []
    (only,) = chunk_text("  One short line.  ", embedder.tokenizer, size=200, overlap=40)
    assert only.text == "One short line." and (only.start, only.end) == (2, 17)
