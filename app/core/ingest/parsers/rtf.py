"""Rich Text Format (.rtf) through striprtf."""

from __future__ import annotations

import re

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers._clean import make_section
from app.core.ingest.parsers.base import ParsedDocument, Source

# The document's ANSI code page (\ansicpg1251); \'xx escapes are bytes in it.
_CODE_PAGE = re.compile(rb"\\ansicpg(\d+)")
# Cell separators striprtf leaves as "|" runs; table rows come out as "a|b|" lines.
_CELL_END = re.compile(r"\|\s*$", re.M)


def parse_rtf(path: Source) -> ParsedDocument:
    """Read an RTF document as one section (table rows as " | "-joined cells).

    Raises:
        EmptyDocument: The document has no text.
        ParseError: The file cannot be read.
    """
    from striprtf.striprtf import rtf_to_text

    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read RTF file: {error.strerror or error}") from error
    match = _CODE_PAGE.search(data[:4096])
    encoding = f"cp{match.group(1).decode()}" if match else "cp1252"
    try:
        "".encode(encoding)
    except LookupError:
        encoding = "cp1252"
    # RTF is 7-bit ASCII by definition; stray 8-bit bytes are read in the document's code page.
    text = rtf_to_text(data.decode(encoding, errors="replace"), encoding=encoding, errors="replace")
    text = _CELL_END.sub("", text).replace("|", " | ")
    section = make_section(text)
    if section is None:
        raise EmptyDocument("no text: this RTF document is empty (or holds only pictures)")
    return ParsedDocument(format="rtf", sections=[section])
