"""Office Open XML: Word (.docx), Excel (.xlsx) and PowerPoint (.pptx).

Word text is read from the document XML directly (through python-docx's package), so that text
boxes, content controls, nested tables and equations are not lost; Excel through openpyxl in
read-only mode; PowerPoint through python-pptx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers import _refusals, _sniff
from app.core.ingest.parsers._clean import clean_title, make_section
from app.core.ingest.parsers.base import ParsedDocument, Section, Source

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_TEXT_TAGS = frozenset({_W + "t", _M + "t"})
_TAB_TAGS = frozenset({_W + "tab", _W + "ptab"})
_BREAK_TAGS = frozenset({_W + "br", _W + "cr"})
# Deleted revisions, field codes, properties, and the VML copy of every DrawingML text box.
_SKIP_TAGS = frozenset({_W + "del", _W + "delText", _W + "instrText", _W + "pPr", _W + "rPr", _MC + "Fallback"})
_WRAPPERS = frozenset({_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "smartTag"})

#: Cells read per sheet before the rest of a sheet is skipped.
MAX_SHEET_CELLS = 200_000


# --- Word -------------------------------------------------------------------------------------


def parse_docx(path: Source) -> ParsedDocument:
    """Read a Word document: headers, body (paragraphs and tables in order), notes, footers.

    Raises:
        PasswordRequired: The file is an encrypted Office package.
        EmptyDocument: The document has no text.
        ParseError: The file is not a readable Word document.
    """
    _refuse_ole(path, ".docx")
    import docx

    try:
        with path.open("rb") as handle:
            document = docx.Document(handle)
        styles = {style.style_id: (style.name or "").lower() for style in document.styles}
        body_lines: list[str] = []
        _blocks(document.element.body, body_lines, styles)
        headers, footers = _headers_and_footers(document)
        notes = _notes(document)
        title = clean_title(document.core_properties.title)
    except ParseError:
        raise
    except Exception as error:
        raise ParseError(f"malformed Word file: {_reason(error)}") from error

    parts = ["\n".join(headers), "\n".join(body_lines), "\n".join(notes), "\n".join(footers)]
    section = make_section("\n\n".join(part for part in parts if part))
    if section is None:
        raise EmptyDocument("no text: this Word document is empty (or holds only pictures)")
    return ParsedDocument(format="docx", sections=[section], title=title)


def _blocks(container: Any, out: list[str], styles: dict[str, str]) -> None:
    """Append the lines of the paragraphs and tables in ``container`` (body, cell, text box)."""
    for child in container:
        tag = child.tag
        if tag == _W + "p":
            _paragraph(child, out, styles)
        elif tag == _W + "tbl":
            out.append("")
            out.extend(_table_rows(child, styles))
            out.append("")
        elif tag in _WRAPPERS:
            _blocks(child, out, styles)


def _paragraph(paragraph: Any, out: list[str], styles: dict[str, str]) -> None:
    parts: list[str] = []
    boxes: list[Any] = []
    _inline(paragraph, parts, boxes)
    text = "".join(parts).strip()
    if text:
        if _is_heading(paragraph, styles):
            out.append("")
        out.append(text)
    for box in boxes:
        _blocks(box, out, styles)


def _inline(element: Any, parts: list[str], boxes: list[Any]) -> None:
    for child in element:
        tag = child.tag
        if tag in _TEXT_TAGS:
            parts.append(child.text or "")
        elif tag in _TAB_TAGS:
            parts.append("\t")
        elif tag in _BREAK_TAGS:
            parts.append("\n")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif tag == _W + "txbxContent":
            boxes.append(child)
        elif tag in _SKIP_TAGS or not isinstance(tag, str):
            continue
        else:
            _inline(child, parts, boxes)


def _is_heading(paragraph: Any, styles: dict[str, str]) -> bool:
    properties = paragraph.find(_W + "pPr")
    if properties is None:
        return False
    if properties.find(_W + "outlineLvl") is not None:
        return True
    style = properties.find(_W + "pStyle")
    name = styles.get(style.get(_W + "val", ""), "") if style is not None else ""
    return name.startswith("heading") or name in ("title", "subtitle")


def _table_rows(table: Any, styles: dict[str, str]) -> list[str]:
    rows = []
    for row in _descendants(table, _W + "tr"):
        cells = []
        for cell in _descendants(row, _W + "tc"):
            lines: list[str] = []
            _blocks(cell, lines, styles)
            text = " ".join(" ".join(line.split()) for line in lines if line.strip())
            if text:  # merged and blank cells add nothing a reader needs
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _descendants(element: Any, tag: str) -> Iterator[Any]:
    """Children tagged ``tag``, also those wrapped in content controls or custom XML."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _descendants(child, tag)


def _headers_and_footers(document: Any) -> tuple[list[str], list[str]]:
    """Every distinct header and footer text once, in section order."""
    found: dict[str, list[str]] = {"headerReference": [], "footerReference": []}
    for sect_pr in document.element.body.iter(_W + "sectPr"):
        for kind, texts in found.items():
            for reference in sect_pr.iter(_W + kind):
                part = document.part.related_parts.get(reference.get(_R + "id"))
                if part is None:
                    continue
                lines: list[str] = []
                _blocks(part.element, lines, {})
                text = "\n".join(line for line in lines if line.strip())
                if text and text not in texts:
                    texts.append(text)
    return found["headerReference"], found["footerReference"]


def _notes(document: Any) -> list[str]:
    """Footnote and endnote text, read from their parts' XML."""
    from lxml import etree

    lines: list[str] = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    for rel in document.part.rels.values():
        if rel.is_external or not rel.reltype.endswith(("/footnotes", "/endnotes")):
            continue
        root = etree.fromstring(rel.target_part.blob, parser=parser)
        for note in root:
            _blocks(note, lines, {})
    return [line for line in lines if line.strip()]


# --- Excel ------------------------------------------------------------------------------------


def parse_xlsx(path: Source) -> ParsedDocument:
    """Read every non-empty sheet as one section: rows as " | "-joined values.

    Raises:
        PasswordRequired: The workbook is encrypted with a password.
        EmptyDocument: No sheet holds any value.
        ParseError: The file is not a readable Excel workbook.
    """
    _refuse_ole(path, ".xlsx")
    import openpyxl

    # Opened from a handle: given a path, openpyxl refuses names not ending in .xlsx/.xlsm, and a
    # workbook renamed .pdf is still a workbook. Read-only mode reads from it until close().
    with path.open("rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as error:
            raise ParseError(f"malformed Excel file: {_reason(error)}") from error
        return _read_workbook(workbook)


def _read_workbook(workbook: Any) -> ParsedDocument:
    sections: list[Section] = []
    warnings: list[str] = []
    try:
        names = workbook.sheetnames
        title = clean_title(workbook.properties.title)
        for index, name in enumerate(names, start=1):
            sheet = workbook[name]
            if not hasattr(sheet, "iter_rows"):  # a chart sheet
                continue
            section = make_section(_sheet_text(sheet, name, warnings), page=index, label=f"Sheet '{name}'")
            if section is not None:
                sections.append(section)
    except Exception as error:
        raise ParseError(f"malformed Excel file: {_reason(error)}") from error
    finally:
        workbook.close()
    if not sections:
        raise EmptyDocument("no text: every sheet of this workbook is empty")
    return ParsedDocument(format="xlsx", sections=sections, title=title, page_count=len(names), warnings=warnings)


def _sheet_text(sheet: Any, name: str, warnings: list[str]) -> str:
    # The stored dimension is often wrong (A1:XFD1048576); without it rows are read as stored.
    sheet.reset_dimensions()
    lines: list[str] = []
    cells_read = 0
    for row in sheet.iter_rows(values_only=True):
        cells_read += len(row)
        if cells_read > MAX_SHEET_CELLS:
            warnings.append(
                f"sheet '{name}' has more than {MAX_SHEET_CELLS:,} cells: only its first {len(lines)} rows are indexed"
            )
            break
        values = [_cell_text(value) for value in row]
        while values and not values[-1]:
            values.pop()
        if any(values):
            lines.append(" | ".join(values))
    return "\n".join(lines)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    return " ".join(str(value).split())


# --- PowerPoint -------------------------------------------------------------------------------


def parse_pptx(path: Source) -> ParsedDocument:
    """Read every slide as one section: title first, then shapes, tables, charts and notes.

    Raises:
        PasswordRequired: The file is an encrypted Office package.
        EmptyDocument: No slide has text.
        ParseError: The file is not a readable PowerPoint presentation.
    """
    _refuse_ole(path, ".pptx")
    import pptx

    try:
        with path.open("rb") as handle:
            presentation = pptx.Presentation(handle)
        slides = list(presentation.slides)
        title = clean_title(presentation.core_properties.title)
    except Exception as error:
        raise ParseError(f"malformed PowerPoint file: {_reason(error)}") from error
    sections: list[Section] = []
    failed: list[str] = []
    for number, slide in enumerate(slides, start=1):
        try:
            text = "\n".join(_slide_lines(slide))
        except Exception as error:  # noqa: BLE001 - one broken slide must not cost the others
            failed.append(f"slide {number} could not be read ({_reason(error)})")
            continue
        section = make_section(text, page=number, label=f"Slide {number}")
        if section is not None:
            sections.append(section)
    if not sections:
        if failed:
            raise ParseError(f"malformed PowerPoint file: {failed[0]}")
        raise EmptyDocument("no text: no slide of this presentation has text (pictures only?)")
    return ParsedDocument(format="pptx", sections=sections, title=title, page_count=len(slides), warnings=failed)


def _slide_lines(slide: Any) -> list[str]:
    lines: list[str] = []
    title_shape = slide.shapes.title
    if title_shape is not None:
        lines.extend(_shape_lines(title_shape))
    for shape in slide.shapes:
        if title_shape is None or shape.shape_id != title_shape.shape_id:
            lines.extend(_shape_lines(shape))
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = frame.text.strip() if frame is not None else ""
        if notes:
            lines.append(f"Notes: {notes}")
    return lines


def _shape_lines(shape: Any) -> list[str]:
    from pptx.shapes.group import GroupShape

    if isinstance(shape, GroupShape):
        return [line for child in shape.shapes for line in _shape_lines(child)]
    lines: list[str] = []
    if shape.has_text_frame:
        lines.append(shape.text_frame.text)
    if getattr(shape, "has_table", False):
        for row in shape.table.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            if any(cells):
                lines.append(" | ".join(cell for cell in cells if cell))
    if getattr(shape, "has_chart", False):
        lines.extend(_chart_lines(shape.chart))
    return lines


def _chart_lines(chart: Any) -> list[str]:
    lines = []
    if chart.has_title and chart.chart_title.has_text_frame:
        lines.append(chart.chart_title.text_frame.text)
    plot = chart.plots[0] if len(chart.plots) else None
    if plot is not None:
        categories = [str(category) for category in plot.categories]
        if categories:
            lines.append(" | ".join(["", *categories]).strip(" |"))
        for series in plot.series:
            values = [_cell_text(value) for value in series.values]
            lines.append(" | ".join([series.name or "", *values]))
    return lines


# --- shared -----------------------------------------------------------------------------------


def _refuse_ole(path: Source, suffix: str) -> None:
    """Office files that are OLE compound files are encrypted (or legacy) and unreadable here."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise ParseError(f"cannot read file: {error.strerror or error}") from error
    if head != _sniff.OLE_MAGIC:
        return
    kind = _sniff.sniff(path, head)
    if kind == "encrypted-office":
        raise _refusals.encrypted_office(suffix, password=None)
    raise _refusals.mislabelled(kind or "ole", suffix)


def _reason(error: BaseException) -> str:
    """A short reason from a library exception, for the user message."""
    text = str(error).strip() or type(error).__name__
    if "zip file" in text.lower():
        return "the file is not a valid Office package (damaged or not a zip)"
    return text[:300]
