"""Text that is not a file (benchmark corpora, pasted notes) into the library, the normal way.

Each item becomes a one-section document and goes through the same chunking, embedding and
storing code as a file (:meth:`IngestService.chunk` and :meth:`IngestService.write`); only
reading is skipped. Items are embedded in large batches across documents, which is what makes a
corpus of thousands of short texts fast.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.ingest.parsers.base import ParsedDocument, Section
from app.core.storage.headers import context_header, with_header
from app.core.storage.registry import READY

if TYPE_CHECKING:
    from app.core.ingest.service import IngestService

@dataclass(frozen=True)
class TextItem:
    """One text to ingest.

    Attributes:
        key: Unique within its source (becomes the document's path ``source/key``).
        title: Its title, or None.
        text: Its text.
    """

    key: str
    title: str | None
    text: str


def _batches(items: Iterable[TextItem], size: int) -> Iterator[list[TextItem]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def ingest_texts(
    service: IngestService,
    items: Iterable[TextItem],
    *,
    source: str,
    batch: int = 256,
    progress: Callable[[int], None] | None = None,
) -> dict[str, str]:
    """Ingest texts; returns key -> doc_id. Texts already stored with the same content are kept.

    Args:
        service: The ingest service of the library to fill.
        items: The texts.
        source: Names where they come from; documents get the path ``source/key``.
        batch: Documents embedded together.
        progress: Called with the number of items handled so far.
    """
    doc_ids: dict[str, str] = {}
    handled = 0
    use_header = service.settings.contextual_header
    try:
        for group in _batches(items, batch):
            todo = []
            for item in group:
                path = Path(source) / item.key
                digest = hashlib.sha256(f"{item.title}\n{item.text}".encode()).hexdigest()
                known = service.library.get(path)
                if (known and known.status == READY and known.content_hash == digest
                        and known.embedder == service.embedder_id):
                    doc_ids[item.key] = known.doc_id
                    continue
                parsed = ParsedDocument(format="text", sections=[Section(item.text)], title=item.title)
                pieces = service.chunk(parsed)
                if pieces:
                    todo.append((item, path, digest, parsed, pieces))
            texts = []
            for item, _, _, _, pieces in todo:
                header = context_header(item.title) if use_header else None
                texts += [with_header(header, p.text) for _, _, p in pieces]
            vectors = service.embedder.embed(texts) if texts else None
            start = 0
            for item, path, digest, parsed, pieces in todo:
                assert vectors is not None
                service.write(path, parsed, pieces, vectors[start : start + len(pieces)], content_hash=digest,
                              size=len(item.text), mtime_ns=0, header=context_header(item.title, path))
                doc_ids[item.key] = service.library.get(path).doc_id  # type: ignore[union-attr]
                start += len(pieces)
            handled += len(group)
            if progress:
                progress(handled)
    finally:
        if service.keywords is not None:
            service.keywords.save()
    return doc_ids
