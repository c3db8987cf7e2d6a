"""PDF text, one section per page, through PDFium (pypdfium2).

A page without a text layer that shows a picture (a scan) is rendered and read by OCR (see ocr.py).
"""

from __future__ import annotations

import contextlib
import re

from app.core.errors import EmptyDocument, ParseError, PasswordRequired
from app.core.ingest.parsers import ocr
from app.core.ingest.parsers._clean import clean_title, make_section
from app.core.ingest.parsers.base import ParsedDocument, Section, Source

# A word broken at a line end: PDFium joins the two lines itself and marks the hyphen with
# U+FFFE; other producers leave "-\n". Whether the hyphen belongs to the word ("ever-changing")
# or only to the layout ("treat-ment") cannot be told from one occurrence, so the parts are
# joined only when the joined word appears elsewhere in the document; otherwise the hyphen stays.
_SOFT_HYPHEN = "\ufffe"
_BROKEN_WORD = re.compile(r"(\w+)(\ufffe|-\n)(\w+)")
_WORD = re.compile(r"\w+")
_SPACE_RUNS = re.compile("[ \u00a0]{2,}")
# Bullets that Symbol/Wingdings fonts put in the private use area.
_PUA_BULLETS = str.maketrans({"\uf0b7": "•", "\uf0a7": "▪", "\uf076": "•", "\uf0d8": "•"})
_MAX_LISTED_PAGES = 20


def parse_pdf(path: Source, *, password: str | None = None) -> ParsedDocument:
    """Extract the text layer of every page; OCR the pages that are only a picture.

    Raises:
        PasswordRequired: The PDF is encrypted and no, or a wrong, password was given.
        OcrUnavailable: No page has a text layer and Tesseract is not installed.
        EmptyDocument: No page has text, even by OCR.
        ParseError: The file is not a readable PDF.
    """
    import pypdfium2 as pdfium

    with contextlib.ExitStack() as stack:
        try:
            handle = stack.enter_context(path.open("rb"))
        except OSError as error:
            raise ParseError(f"cannot read PDF: {error.strerror or error}") from error
        # Opened from our handle, not by path: PDFium's own file access mishandles non-ASCII
        # paths on Windows. The document is closed (by the stack) before the handle.
        try:
            document = pdfium.PdfDocument(handle, password=password or None)
        except pdfium.PdfiumError as error:
            raise _open_error(error, password=password) from error
        stack.callback(document.close)

        page_count = len(document)
        title = _metadata_title(document)
        texts: dict[int, str] = {}
        unreadable: list[int] = []
        for index in range(page_count):
            try:
                texts[index + 1] = normalise_pdf_text(_page_text(document, index))
            except pdfium.PdfiumError:
                unreadable.append(index + 1)
        ocr_warnings = _ocr_scanned_pages(document, texts)

    vocabulary = {word.lower() for text in texts.values() for word in _WORD.findall(text)}
    sections: list[Section] = []
    blank: list[int] = []
    for number, text in texts.items():
        section = make_section(join_broken_words(text, vocabulary), page=number, label=f"Page {number}")
        if section is None:
            blank.append(number)
        else:
            sections.append(section)

    if not sections:
        if unreadable:
            raise ParseError(f"malformed PDF: none of its {page_count} pages could be read")
        if any(w.startswith(_NO_TESSERACT) for w in ocr_warnings):
            raise ocr.OcrUnavailable()
        raise EmptyDocument("no text: no page has a text layer or a picture of text that OCR can read")
    warnings = list(ocr_warnings)
    if blank:
        warnings.append(f"{_pages_phrase(blank)} no text")
    if unreadable:
        warnings.append(f"{_pages_phrase(unreadable)} could not be read (damaged)")
    # Each table row again as a record with its column headers, after the page's own text (see
    # app.core.ingest.parsers.context): part of the page's text, so a passage quoting one is found there again.
    from app.core.ingest.parsers.context import with_table_records

    parsed = ParsedDocument(format="pdf", sections=sections, title=title, page_count=page_count, warnings=warnings)
    return with_table_records(parsed)


_NO_TESSERACT = "OCR not available"


def _ocr_scanned_pages(document: object, texts: dict[int, str]) -> list[str]:
    """Replace the empty text of pages that show a picture by what OCR reads there.

    Returns warnings: pages left out by the OCR budget, or OCR missing.
    """
    import pypdfium2.raw as pdfium_c

    scanned = []
    for number, text in texts.items():
        if text.strip():
            continue
        page = document[number - 1]  # type: ignore[index]
        try:
            images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3)
            if next(iter(images), None) is not None:
                scanned.append(number)
        finally:
            page.close()
    if not scanned:
        return []
    if ocr.tesseract_path() is None:
        return [f"{_NO_TESSERACT}: {_pages_phrase(scanned)} no text layer (install tesseract-ocr to read them)"]
    budget = ocr.OcrBudget()
    for number in scanned:
        if budget.allows(number):
            texts[number] = ocr.ocr_image(_render(document, number))
    return [w for w in (budget.warning(),) if w]


def _render(document: object, number: int) -> object:
    """Page ``number`` as a grey-level PIL image at about OCR_DPI."""
    page = document[number - 1]  # type: ignore[index]
    try:
        width, height = page.get_size()
        scale = min(ocr.OCR_DPI / 72, 5000 / max(width, height, 1))
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            return bitmap.to_pil().copy()
        finally:
            bitmap.close()
    finally:
        page.close()


def normalise_pdf_text(raw: str) -> str:
    """Undo PDFium's layout artefacts: CRLF line ends, runs of spaces, symbol-font bullets."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACE_RUNS.sub(" ", text)
    return text.translate(_PUA_BULLETS)


def join_broken_words(text: str, vocabulary: set[str]) -> str:
    """Rejoin words hyphenated at a line end when ``vocabulary`` (the document's lower-cased
    words) knows the joined word; keep the hyphen otherwise."""

    def rejoin(match: re.Match[str]) -> str:
        head, mark, tail = match.groups()
        if tail[0].islower() and (head + tail).lower() in vocabulary:
            return head + tail
        return head + ("-" if mark == _SOFT_HYPHEN else mark) + tail

    return _BROKEN_WORD.sub(rejoin, text).replace(_SOFT_HYPHEN, "-")


def _page_text(document: object, index: int) -> str:
    page = document[index]  # type: ignore[index]
    try:
        textpage = page.get_textpage()
        try:
            # get_text_range, not get_text_bounded: the latter drops text that lies outside the
            # page box (negative coordinates, rotated pages).
            return str(textpage.get_text_range())
        finally:
            textpage.close()
    finally:
        page.close()


def _open_error(error: Exception, *, password: str | None) -> ParseError:
    import pypdfium2.raw as pdfium_c

    code = getattr(error, "err_code", None)
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        if password:
            return PasswordRequired("wrong password: the password given does not open this PDF")
        return PasswordRequired("password required: this PDF is encrypted")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return ParseError("unsupported PDF encryption: this PDF uses a security handler PDFium cannot open")
    if code == pdfium_c.FPDF_ERR_FILE:
        return ParseError("cannot read PDF: the file could not be opened")
    if code == pdfium_c.FPDF_ERR_FORMAT:
        return ParseError("malformed PDF: the file is damaged or is not a PDF")
    return ParseError(f"malformed PDF: {error}")


def _metadata_title(document: object) -> str | None:
    try:
        return clean_title(document.get_metadata_value("Title"))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a broken info dictionary must not cost the text
        return None


def _pages_phrase(pages: list[int]) -> str:
    shown = ", ".join(str(p) for p in pages[:_MAX_LISTED_PAGES])
    if len(pages) > _MAX_LISTED_PAGES:
        shown += f" and {len(pages) - _MAX_LISTED_PAGES} more"
    return f"page {shown} has" if len(pages) == 1 else f"pages {shown} have"
