"""The documents of the library, as front ends see them: list, add, remove, rescan.

One place keeps the four records of a document in step: its registry row, its vectors, its
keyword entry and the audit log. Front ends (GUI, CLI) call this service; they never delete a
registry row or a vector themselves.

Thread rule: any thread may call it. Each call builds its ingest service on the caller's thread
and the stores it reaches lock themselves (see :class:`app.core.storage.registry.Library`);
the GUI still runs adds and removes on its ingest lane, one at a time, so that they keep order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.values import Document, LibraryInfo, WatchedFolder

if TYPE_CHECKING:
    from app.core.ingest.service import FileOutcome, IngestService
    from app.core.ingest.watch import RescanResult, WatchService
    from app.core.storage.registry import Library


class DocumentService:
    """Adds, lists, removes and rescans documents.

    Args:
        library: The document registry (read for listings; written only through ``ingest``).
        ingest: Builds the ingest service (loads the embedder and the store on first use).
        watch: Builds the followed-folders service.
    """

    def __init__(self, *, library: Library, ingest: Callable[[], IngestService],
                 watch: Callable[[], WatchService]) -> None:
        self._library = library
        self._ingest = ingest
        self._watch = watch

    def all(self, status: str | None = None) -> list[Document]:
        """Every document known to the library (of one ``status`` if given)."""
        return self._library.all(status)

    def get(self, path: Path | str) -> Document | None:
        return self._library.get(Path(path))

    def add(self, paths: Iterable[Path], **options: Any) -> list[FileOutcome]:
        """Read files and folders into the library (see :meth:`IngestService.ingest`)."""
        return self._ingest().ingest(list(paths), **options)

    def remove(self, path: Path | str) -> Document | None:
        """Remove a document, its chunks, its keyword entry and the documents found inside it,
        and record it in the audit log.

        ``path`` is a file on disk (resolved as the user typed it) or a path exactly as the
        library lists it (a failed document, an attachment "mail.eml › report.pdf").

        Returns:
            The document removed, or None when it was not in the library.
        """
        service = self._ingest()
        resolved = Path(path).expanduser().resolve()
        doc = self._library.get(resolved) or self._library.get(Path(path))
        if doc is None:
            return None
        service.remove_document(doc)
        return doc

    # -- libraries (named groups of documents) -------------------------------------------------

    def libraries(self) -> list[LibraryInfo]:
        return self._library.libraries()

    def watched(self) -> list[WatchedFolder]:
        """The folders the libraries follow."""
        return self._library.watched()

    def create_library(self, name: str) -> str:
        """Add an empty library; returns its cleaned-up name."""
        return self._library.create_library(name)

    def rename_library(self, old: str, new: str) -> str:
        return self._library.rename_library(old, new)

    def delete_library(self, name: str) -> int:
        """Remove every document of a library (as :meth:`remove` does), then the library itself;
        returns how many documents it held. The files themselves are not touched."""
        self._library.require_library(name)
        docs = self._library.in_libraries([name])
        for doc in docs:  # a mail's attachments go with the mail: already gone when their turn comes
            self.remove(doc.path)
        self._library.drop_library(name)
        return len(docs)

    def rescan(self, **options: Any) -> RescanResult:
        """Bring the followed folders up to date (see :meth:`WatchService.rescan`)."""
        return self._watch().rescan(**options)
