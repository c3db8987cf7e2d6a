"""Find a cited passage in its document again, so a person can read it in place.

A PDF is shown page by page by the viewer; it needs the page and a short phrase to search and
highlight on it. Every other format is shown as text; it needs the section's text and where the
passage lies in it (a chunk is an exact slice of its section's text, see the chunker). The file
is read again in the parser's worker process, with the same limits as ingestion.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.config import Settings
from app.core.errors import SanctumError
from app.core.ingest.parse_pool import ParserPool

PDF, TEXT = "pdf", "text"


class SourceMissing(SanctumError):
    """The cited file was moved, deleted or changed since it was read."""


@dataclass(frozen=True)
class SourceLocation:
    """Where a passage is, in the form the viewer needs.

    Attributes:
        path: The file.
        kind: "pdf" (show the page) or "text" (show ``text`` with ``start:end`` selected).
        page: 1-based page for a PDF (or the section's page for paged formats), else None.
        label: "Page 3", "Slide 2" … or None.
        phrase: A short run of the passage that lies on one line, to search for on a PDF page.
        text: The section's full text ("text" kind); for a PDF, the passage itself.
        start: Where the passage starts in ``text``.
        end: Where it ends.
        exact: False when the passage was not found in the file as it is now (shown on its own).
    """

    path: Path
    kind: str
    page: int | None
    label: str | None
    phrase: str
    text: str
    start: int
    end: int
    exact: bool = True


def search_phrase(passage: str, *, max_chars: int = 60) -> str:
    """A phrase from the passage that a PDF text search will find on one line.

    PDF text search works within lines, so the phrase is taken from one line: the first with at
    least four words, cut at a word boundary.
    """
    lines = [" ".join(line.split()) for line in passage.splitlines()]
    candidates = [line for line in lines if len(line.split()) >= 4] or [line for line in lines if line] or [""]
    line = candidates[0]
    if len(line) <= max_chars:
        return line
    return line[:max_chars].rsplit(" ", 1)[0]


# Ignored when matching a passage against a page's text: layout (spaces, line breaks) and the marks
# PDF text extraction leaves where a word was hyphenated at the end of a line.
_IGNORED = frozenset("\u00ad\u0002\ufffe")


def _squeezed(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace, compatibility-folded ("ﬁ" -> "fi") and case-folded, with the
    index in ``text`` of each character kept."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in _IGNORED:
            continue
        for folded in unicodedata.normalize("NFKC", ch).casefold():
            if not folded.isspace():
                chars.append(folded)
                where.append(i)
    return "".join(chars), where


def find_span(text: str, needle: str, *, near: int = 0, edge: int = 24) -> tuple[int, int] | None:
    """Where ``needle`` (a passage, a sentence) lies in ``text`` (a page's text), as (start, end).

    Spacing, line breaks, case and ligatures may differ (a PDF's text layer breaks lines where the
    parser joined them). When the whole does not match, the passage is taken to run from where its
    first ``edge`` characters are to where its last ones are, if that span is about its length.
    Of several matches, the first at or after ``near`` (an index in ``text``) wins.

    Returns:
        The span in ``text``, or None when the needle is not there.
    """
    hay, where = _squeezed(text)
    pin, _ = _squeezed(needle)
    if not pin or not hay:
        return None
    after = next((k for k, i in enumerate(where) if i >= near), 0)

    def find(sub: str, start: int = 0) -> int:
        k = hay.find(sub, max(start, after))
        return k if k >= 0 else hay.find(sub, start)

    k = find(pin)
    if k >= 0:
        return where[k], where[k + len(pin) - 1] + 1
    if len(pin) <= 2 * edge:
        return None
    head, tail = pin[:edge], pin[-edge:]
    k = find(head)
    if k < 0:
        return None
    t = hay.find(tail, k + edge)
    if t < 0 or not (0.7 * len(pin) <= t + edge - k <= 1.3 * len(pin)):
        return None
    return where[k], where[t + edge - 1] + 1


class SourceService:
    """Locates passages in their files.

    Thread rule: any thread may call :meth:`locate`; files are read by the shared parser worker
    (one per process, :meth:`app.core.engine.Engine.parser_pool`), in the order asked.

    Args:
        settings: Gives the per-file time limit for reading.
        pool: Gives the process's parser pool; without it each call starts (and stops) its own.
    """

    def __init__(self, *, settings: Settings, pool: Callable[[], ParserPool] | None = None) -> None:
        self.settings = settings
        self._pool = pool

    def locate(self, path: str | Path, *, text: str, page: int | None = None,
               label: str | None = None) -> SourceLocation:
        """Where ``text`` (a cited passage) is in ``path``.

        Raises:
            SourceMissing: The file is gone.
            ParseError: The file can no longer be read.
        """
        path = Path(path)
        if not path.is_file():
            raise SourceMissing(f"{path.name} is no longer at {path.parent}; it was moved or deleted")
        if path.suffix.lower() == ".pdf":
            return SourceLocation(path, PDF, page, label, search_phrase(text), text, 0, len(text))
        pool = self._pool() if self._pool else ParserPool(timeout_s=self.settings.parse_timeout_s)
        try:
            parsed = pool.result(pool.submit(path))
        finally:
            if self._pool is None:
                pool.close()
        sections = parsed.sections
        if page is not None:  # look in the cited section first
            sections = sorted(sections, key=lambda s: s.page != page)
        for section in sections:
            start = section.text.find(text)
            if start >= 0:
                return SourceLocation(path, TEXT, section.page, section.label, search_phrase(text), section.text,
                                      start, start + len(text))
        for section in sections:  # the file changed a little: find the passage's first line
            match = re.search(re.escape(search_phrase(text)), section.text)
            if match and match.group(0):
                return SourceLocation(path, TEXT, section.page, section.label, match.group(0), section.text,
                                      match.start(), match.end(), exact=False)
        return SourceLocation(path, TEXT, page, label, search_phrase(text), text, 0, len(text), exact=False)
