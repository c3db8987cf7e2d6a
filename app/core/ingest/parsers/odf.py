"""OpenDocument: text (.odt), spreadsheets (.ods) and presentations (.odp).

The package's content.xml is read with lxml directly: the format is plain, documented XML, and
odfpy (unmaintained since 2020) would add nothing but a slower DOM. Text documents give one
section; each sheet and each slide is its own numbered section.
"""

from __future__ import annotations

import zipfile
from typing import Any

from app.core.errors import EmptyDocument, ParseError, PasswordRequired
from app.core.ingest.parsers._clean import clean_title, make_section
from app.core.ingest.parsers.base import ParsedDocument, Source

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_BLOCKS = frozenset({_TEXT + "p", _TEXT + "h"})
# Deleted revisions, and fields that only repeat what is elsewhere (notes are kept).
_SKIP = frozenset({_TEXT + "tracked-changes", _OFFICE + "annotation-end", _TEXT + "sequence-decls"})
_KINDS = {"odt": "OpenDocument text", "ods": "OpenDocument spreadsheet", "odp": "OpenDocument presentation"}
#: Cells read per sheet before the rest of the sheet is skipped (as for .xlsx).
MAX_SHEET_CELLS = 200_000
# Empty rows and columns are often "repeated" a million times; repeats of content are capped.
_MAX_REPEAT = 100


def parse_odf(path: Source, kind: str) -> ParsedDocument:
    """Read an OpenDocument file; ``kind`` is "odt", "ods" or "odp" (from its mimetype).

    Raises:
        PasswordRequired: The document is encrypted.
        EmptyDocument: It holds no text.
        ParseError: It is not a readable OpenDocument package.
    """
    what = _KINDS[kind]
    content, meta = _read_parts(path, what)
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, recover=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise ParseError(f"malformed {what}: {error}") from error
    if root is None:
        raise ParseError(f"malformed {what}: content.xml is empty")
    title = _title(meta, parser)
    body = root.find(f"{_OFFICE}body")
    if body is None:
        raise EmptyDocument(f"no text: this {what} has no body")
    warnings: list[str] = []
    if kind == "odt":
        lines: list[str] = []
        _blocks(body, lines)
        section = make_section("\n".join(lines))
        sections = [section] if section else []
        page_count = None
    elif kind == "ods":
        tables = list(body.iter(f"{_TABLE}table"))
        sections = [
            s
            for number, table in enumerate(tables, start=1)
            if (name := table.get(f"{_TABLE}name") or f"Sheet{number}")
            and (s := make_section(_sheet_text(table, name, warnings), page=number, label=f"Sheet '{name}'"))
        ]
        page_count = len(tables)
    else:
        slides = list(body.iter(f"{_DRAW}page"))
        sections = []
        for number, slide in enumerate(slides, start=1):
            lines = []
            _blocks(slide, lines)
            section = make_section("\n".join(lines), page=number, label=f"Slide {number}")
            if section is not None:
                sections.append(section)
        page_count = len(slides)
    if not sections:
        raise EmptyDocument(f"no text: this {what} is empty")
    return ParsedDocument(format=kind, sections=sections, title=title, page_count=page_count, warnings=warnings)


def _read_parts(path: Source, what: str) -> tuple[bytes, bytes | None]:
    try:
        with path.open("rb") as handle, zipfile.ZipFile(handle) as package:
            names = set(package.namelist())
            manifest = package.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
            if b"encryption-data" in manifest:
                raise PasswordRequired(
                    f"password-protected {what}: Sanctum cannot open encrypted OpenDocument files; open "
                    "it in LibreOffice, save a copy without a password (File > Save As, untick "
                    "'Save with password') and add that"
                )
            if "content.xml" not in names:
                raise ParseError(f"malformed {what}: the package has no content.xml")
            content = package.read("content.xml")
            meta = package.read("meta.xml") if "meta.xml" in names else None
            return content, meta
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError) as error:
        raise ParseError(f"malformed {what}: the package is damaged ({error})") from error


def _title(meta: bytes | None, parser: Any) -> str | None:
    if not meta:
        return None
    from lxml import etree

    try:
        root = etree.fromstring(meta, parser)
    except etree.XMLSyntaxError:
        return None
    element = root.find(f".//{_DC_TITLE}") if root is not None else None
    return clean_title(element.text) if element is not None else None


def _blocks(container: Any, out: list[str]) -> None:
    """Append the lines of the paragraphs, lists and tables in ``container``, in order."""
    for child in container:
        tag = child.tag
        if tag in _SKIP or not isinstance(tag, str):
            continue
        if tag in _BLOCKS:
            notes: list[str] = []
            out.append(_inline(child, notes))
            out.extend(notes)
        elif tag == _TABLE + "table":
            out.append("")
            out.extend(_table_rows(child))
            out.append("")
        else:  # lists, sections, frames, text boxes, slides' shapes ...
            _blocks(child, out)


def _inline(element: Any, notes: list[str]) -> str:
    """A paragraph's text: spans joined, spacing elements expanded, notes set aside."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            pass
        elif tag == _TEXT + "s":
            parts.append(" " * min(int(child.get(_TEXT + "c", "1") or 1), 100))
        elif tag == _TEXT + "tab":
            parts.append("\t")
        elif tag == _TEXT + "line-break":
            parts.append("\n")
        elif tag in (_TEXT + "note", _OFFICE + "annotation"):
            body: list[str] = []
            _blocks(child.find(f"{_TEXT}note-body") if tag == _TEXT + "note" else child, body)
            notes.extend(line for line in body if line.strip())
        elif tag in _SKIP:
            pass
        else:
            parts.append(_inline(child, notes))
        parts.append(child.tail or "")
    return "".join(parts)


def _cell_text(cell: Any) -> str:
    lines: list[str] = []
    _blocks(cell, lines)
    return " ".join(" ".join(lines).split())


def _table_rows(table: Any) -> list[str]:
    rows = []
    for row in table.iter(f"{_TABLE}table-row"):
        values = _row_values(row)
        if any(values):
            rows.append(" | ".join(values))
    return rows


def _row_values(row: Any) -> list[str]:
    values: list[str] = []
    for cell in row:
        if cell.tag not in (_TABLE + "table-cell", _TABLE + "covered-table-cell"):
            continue
        text = _cell_text(cell)
        repeat = int(cell.get(_TABLE + "number-columns-repeated", "1") or 1)
        values.extend([text] * (min(repeat, _MAX_REPEAT) if text else min(repeat, 1)))
    while values and not values[-1]:
        values.pop()
    return values


def _sheet_text(table: Any, name: str, warnings: list[str]) -> str:
    lines: list[str] = []
    cells = 0
    for row in table.iter(f"{_TABLE}table-row"):
        values = _row_values(row)
        if not any(values):
            continue
        repeat = min(int(row.get(_TABLE + "number-rows-repeated", "1") or 1), _MAX_REPEAT)
        cells += len(values) * repeat
        if cells > MAX_SHEET_CELLS:
            warnings.append(
                f"sheet '{name}' has more than {MAX_SHEET_CELLS:,} cells: only its first {len(lines)} rows are indexed"
            )
            break
        lines.extend([" | ".join(values)] * repeat)
    return "\n".join(lines)
