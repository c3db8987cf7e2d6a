"""Plain-text formats: prose and markup (txt, md, rst, org, log, json, xml, ipynb) and tables
(csv, tsv), in whatever encoding they were saved."""

from __future__ import annotations

import csv
import io
import json

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers._clean import make_section
from app.core.ingest.parsers._decode import decode_bytes
from app.core.ingest.parsers.base import ParsedDocument, Source

#: Suffix -> format name reported in ParsedDocument.format.
TEXT_SUFFIXES: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "text",
    ".org": "text",
    ".json": "text",
    ".jsonl": "text",
    ".ipynb": "text",
    ".xml": "text",
    ".csv": "csv",
    ".tsv": "csv",
}
_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024


def parse_text(path: Source) -> ParsedDocument:
    """Read a text file by its suffix (see TEXT_SUFFIXES); CSV/TSV rows become " | " lines.

    Raises:
        EmptyDocument: The file is empty or holds only whitespace.
        ParseError: The file cannot be read or is binary.
    """
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read file: {error.strerror or error}") from error
    if not data.strip():
        raise EmptyDocument("empty file: it holds no text" if data else "empty file: it is 0 bytes")
    text = decode_bytes(data)
    warnings: list[str] = []
    if suffix in (".csv", ".tsv"):
        text = _table_text(text, delimiter="\t" if suffix == ".tsv" else None, warnings=warnings)
    elif suffix == ".ipynb":
        text = _notebook_text(text, warnings=warnings)
    elif suffix == ".xml":
        text = _xml_text(data, warnings=warnings)
    section = make_section(text)
    if section is None:
        raise EmptyDocument("empty file: it holds only whitespace")
    return ParsedDocument(format=TEXT_SUFFIXES.get(suffix, "text"), sections=[section], warnings=warnings)


def _table_text(text: str, *, delimiter: str | None, warnings: list[str]) -> str:
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters=_DELIMITERS).delimiter
        except csv.Error:
            delimiter = ","
    lines = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells = [" ".join(cell.split()) for cell in row]
            while cells and not cells[-1]:
                cells.pop()
            if any(cells):
                lines.append(" | ".join(cells))
    except csv.Error as error:
        # Typically a field over the csv module's size limit: the text itself is still good.
        warnings.append(f"could not be split into rows ({error}); indexed as plain text")
        return text
    return "\n".join(lines)


def _notebook_text(text: str, *, warnings: list[str]) -> str:
    try:
        notebook = json.loads(text)
        cells = notebook["cells"]
        parts = []
        for cell in cells:
            source = cell.get("source", "")
            parts.append("".join(source) if isinstance(source, list) else str(source))
            for output in cell.get("outputs", ()):
                stream = output.get("text") or output.get("data", {}).get("text/plain")
                if stream:
                    parts.append("".join(stream) if isinstance(stream, list) else str(stream))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        warnings.append(f"not a readable Jupyter notebook ({error}); indexed as plain text")
        return text
    return "\n\n".join(parts)


def _xml_text(data: bytes, *, warnings: list[str]) -> str:
    """The text content of an XML document, one element per line; escaped HTML inside it (RSS
    descriptions) is reduced to its text too."""
    from lxml import etree

    from app.core.ingest.parsers.html import html_to_text

    # No entity expansion and no network: a hostile file must not read local files (XXE).
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as error:
        raise ParseError(f"malformed XML: {error}") from error
    if root is None:
        warnings.append("not well-formed XML; indexed as plain text")
        return decode_bytes(data)
    lines = []
    for element in root.iter():
        # Comments and processing instructions: only the text after them is content.
        pieces = (element.text, element.tail) if isinstance(element.tag, str) else (element.tail,)
        for piece in pieces:
            if piece and piece.strip():
                if "<" in piece and ">" in piece:
                    piece = html_to_text(piece)[1]
                lines.append(piece.strip())
    return "\n".join(lines)
