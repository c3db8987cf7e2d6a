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
