"""The contextual header: the title (else the file name) put in front of each chunk when it is
embedded, and kept as a field of the keyword index.

Here, below ingest and retrieval, because both write it: ingest when a document is read,
retrieval when the keyword index is rebuilt from the store.
"""

from __future__ import annotations

from pathlib import Path

HEADER_TOKENS = 40  # word-pieces kept free in the embedder's window for the header
_HEADER_CHARS = 150


def context_header(title: str | None, path: Path | None = None) -> str | None:
    """What is put in front of a chunk when it is embedded: the title, else the file name."""
    name = (title or "").strip()
    if not name and path is not None:
        name = path.stem.replace("_", " ").replace("-", " ").strip()
    if not name:
        return None
    name = " ".join(name.split())
    if len(name) > _HEADER_CHARS:
        name = name[:_HEADER_CHARS].rsplit(" ", 1)[0]
    return name


def with_header(header: str | None, text: str) -> str:
    return f"{header}\n\n{text}" if header else text
