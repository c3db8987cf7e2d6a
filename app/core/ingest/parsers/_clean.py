"""Text hygiene shared by every parser: what a section may and may not contain."""

from __future__ import annotations

import re
import unicodedata

from app.core.ingest.parsers.base import Section

# Controls other than \t and \n, lone surrogates (they cannot be encoded, so they would break the
# index later), the BOM and the two non-characters. \r, \v, \f and the Unicode line separators are
# turned into newlines before this runs.
_JUNK = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_NEWLINES = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_TRAILING_SPACE = re.compile("[ \t]+\n")
_BLANK_RUNS = re.compile("\n{3,}")

# Titles that tools write by default; showing them would be worse than showing the file name.
_GENERIC_TITLES = frozenset(
    {
        "untitled",
        "(anonymous)",
        "anonymous",
        "document",
        "word document",
        "microsoft word document",
        "powerpoint presentation",
        "presentation",
        "slide 1",
        "book1",
        "sheet1",
    }
)
_FILE_NAME_TITLE = re.compile(r"^[\w\-. ]+\.(jpe?g|png|gif|bmp|tiff?|pdf|docx?|xlsx?|pptx?|rtf|txt|html?)$", re.I)
_TOOL_PREFIX = re.compile(r"^(microsoft (word|powerpoint|excel) - )", re.I)


def clean_text(text: str) -> str:
    """Return ``text`` fit to index: no control characters, NFC, at most one blank line in a row.

    Tabs and newlines are kept; trailing spaces on each line and around the whole text are removed.
    """
    text = _NEWLINES.sub("\n", text)
    text = _JUNK.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def make_section(text: str, *, page: int | None = None, label: str | None = None) -> Section | None:
    """Clean ``text`` and wrap it in a Section, or return None when nothing readable is left."""
    cleaned = clean_text(text)
    if not cleaned:
        return None
    return Section(text=cleaned, page=page, label=label)


def clean_title(title: object) -> str | None:
    """Return a document's own title, or None when it is missing or a tool's placeholder."""
    if not isinstance(title, str):
        return None
    cleaned = " ".join(clean_text(title).split())
    cleaned = _TOOL_PREFIX.sub("", cleaned).strip()
    if not cleaned or cleaned.lower() in _GENERIC_TITLES or _FILE_NAME_TITLE.match(cleaned):
        return None
    return cleaned[:300]
