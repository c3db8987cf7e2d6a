"""Write real documents of every supported format, with the real libraries, for tests.

Each writer puts given text at a known place (page, sheet, slide) so a test can check that the
text comes back from that place.
"""

from __future__ import annotations

import textwrap
from email.message import EmailMessage
from pathlib import Path


def pdf_bytes(pages: list[list[str] | None], *, title: str | None = None) -> bytes:
    """A valid PDF with one page per entry: a list of text lines, or None for a blank page."""

    def literal(text: str) -> bytes:
        raw = text.encode("cp1252")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    objects: list[bytes] = []  # object n is objects[n - 1]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # the page tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        if lines:
            ops = [b"BT /F1 12 Tf 14 TL 72 720 Td"]
            for line in lines:
                ops.append(literal(line) + b" Tj T*")
            ops.append(b"ET")
            stream = b"\n".join(ops)
        else:
            stream = b""
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content_number = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % content_number
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    info = None
    if title is not None:
        objects.append(b"<< /Title " + literal(title) + b" >>")
        info = len(objects)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A valid PDF with one page per string (wrapped at 80 columns)."""
    wrapped = [[line for para in text.split("\n") for line in (textwrap.wrap(para, 80) or [""])] for text in pages]
    path.write_bytes(pdf_bytes(wrapped))
    return path


def make_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = path.stem
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                t.cell(r, c).text = cell
    document.save(path)
    return path


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def make_pptx(path: Path, slides: list[tuple[str, str]]) -> Path:
    from pptx import Presentation

    prs = Presentation()
    for title, body in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    prs.save(path)
    return path


def make_html(path: Path, title: str, body: str, encoding: str = "utf-8") -> Path:
    html = (
        f"<!DOCTYPE html><html><head><meta charset='{encoding}'><title>{title}</title>"
        "<style>p { color: red }</style><script>var secret = 'not text';</script></head>"
        f"<body><h1>{title}</h1><p>{body}</p></body></html>"
    )
    path.write_bytes(html.encode(encoding))
    return path


def make_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def make_csv(path: Path, rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def make_eml(path: Path, subject: str, body: str, sender: str = "ward.manager@clinic.example") -> Path:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "night.staff@clinic.example"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 03 Mar 2025 08:15:00 +0000"
    msg.set_content(body)
    path.write_bytes(bytes(msg))
    return path


# --- formats read through OCR, containers and other office suites --------------------------------


def text_image(lines: list[str], *, size: tuple[int, int] = (1700, 2200), font_px: int = 48) -> object:
    """A white, grey-level PIL page with ``lines`` printed on it in black (a clean "scan")."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype("DejaVuSans.ttf", font_px)
    except OSError:
        font = ImageFont.load_default(size=font_px)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((120, 150 + number * int(font_px * 1.6)), line, font=font, fill=0)
    return image


def make_scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """An image-only PDF (no text layer): one page picture per entry, at 200 dpi."""
    images = [text_image(lines) for lines in pages]
    images[0].save(path, "PDF", resolution=200, save_all=True, append_images=images[1:])  # type: ignore[attr-defined]
    return path


def make_tiff(path: Path, pages: list[list[str]]) -> Path:
    """A multi-page TIFF, one frame per entry."""
    images = [text_image(lines) for lines in pages]
    images[0].save(path, "TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate")  # type: ignore[attr-defined]
    return path


def make_png(path: Path, lines: list[str]) -> Path:
    text_image(lines).save(path, "PNG")  # type: ignore[attr-defined]
    return path


_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"'
)
_ODF_TYPES = {
    "odt": ("application/vnd.oasis.opendocument.text", "text"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "spreadsheet"),
    "odp": ("application/vnd.oasis.opendocument.presentation", "presentation"),
}


def make_odf(path: Path, kind: str, body: str, *, title: str | None = None, encrypted: bool = False) -> Path:
    """An OpenDocument package ("odt", "ods", "odp") whose office:body/office:<kind> holds ``body`` XML."""
    import zipfile
    from xml.sax.saxutils import escape

    mimetype, element = _ODF_TYPES[kind]
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS}><office:body>'
        f"<office:{element}>{body}</office:{element}></office:body></office:document-content>"
    )
    meta = f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {_ODF_NS}><office:meta>'
    if title:
        meta += f"<dc:title>{escape(title)}</dc:title>"
    meta += "</office:meta></office:document-meta>"
    entry = "<manifest:encryption-data/>" if encrypted else ""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        f'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{entry}'
        "</manifest:file-entry></manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # first and stored, as the spec asks
        package.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        package.writestr("meta.xml", meta, zipfile.ZIP_DEFLATED)
        package.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def make_epub(path: Path, title: str, chapters: list[tuple[str, str]]) -> Path:
    """An EPUB 3 book: one XHTML file per (heading, paragraph) chapter, in spine order."""
    import zipfile
    from xml.sax.saxutils import escape

    items, refs = [], []
    with zipfile.ZipFile(path, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        for number, (heading, text) in enumerate(chapters, start=1):
            name = f"ch{number}.xhtml"
            book.writestr(
                f"OEBPS/text/{name}",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                f"<head><title>{escape(title)}</title></head><body><h1>{escape(heading)}</h1>"
                f"<p>{escape(text)}</p></body></html>",
            )
            items.append(f'<item id="c{number}" href="text/{name}" media-type="application/xhtml+xml"/>')
            refs.append(f'<itemref idref="c{number}"/>')
        # The spine lists the chapters in reverse file order: reading order must follow the spine.
        book.writestr(
            "OEBPS/book.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{escape(title)}</dc:title></metadata>'
            f"<manifest>{''.join(items)}</manifest><spine>{''.join(reversed(refs))}</spine></package>",
        )
    return path


def make_rtf(path: Path, paragraphs: list[str]) -> Path:
    """An RTF document; non-ASCII characters written as \\'xx escapes in code page 1252."""

    def escape(text: str) -> str:
        out = []
        for char in text:
            if char in "\\{}":
                out.append("\\" + char)
            elif ord(char) < 128:
                out.append(char)
            else:
                out.append(f"\\'{char.encode('cp1252')[0]:02x}")
        return "".join(out)

    body = "".join(f"{{\\pard {escape(p)}\\par}}\n" for p in paragraphs)
    path.write_bytes(("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}\n" + body + "}").encode("ascii"))
    return path


def make_eml_with_attachments(path: Path, subject: str, body: str, attachments: list[tuple[str, bytes]]) -> Path:
    msg = EmailMessage()
    msg["From"] = "ward.manager@clinic.example"
    msg["To"] = "night.staff@clinic.example"
    msg["Subject"] = subject
    msg.set_content(body)
    for name, data in attachments:
        maintype, subtype = ("application", "octet-stream")
        if name.endswith(".pdf"):
            subtype = "pdf"
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    path.write_bytes(bytes(msg))
    return path


def encrypt_office(plain: Path, encrypted: Path, password: str) -> Path:
    """Encrypt a .docx/.xlsx/.pptx with a password, as Office's "Encrypt with Password" does."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with plain.open("rb") as source, encrypted.open("wb") as target:
        OOXMLFile(source).encrypt(password, target)
    return encrypted
