"""Tests for app.core.ingest.parsers: real files written with the real libraries, and the 145 real-world
files in ../shared/data/ingestion."""

from __future__ import annotations

import email.policy
import os
import random
import shutil
import subprocess
import sys
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from app.core.errors import EmptyDocument, ParseError, PasswordRequired, UnsupportedFormat
from app.core.ingest.parsers import SUPPORTED_SUFFIXES, is_supported, parse
from app.core.ingest.parsers.base import ParsedDocument
from tests.docmaker import pdf_bytes as make_pdf

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
INGESTION = DATA / "ingestion"
EXAMPLES = INGESTION / "unstructured" / "example-docs"
MARKITDOWN = INGESTION / "markitdown" / "packages" / "markitdown" / "tests" / "test_files"
needs_data = pytest.mark.skipif(
    not INGESTION.is_dir(), reason=f"real test files not found: {INGESTION} (../shared beside the checkout)"
)

FRENCH = "Le médecin a prescrit 5 mg de morphine à 14 h ; état stable, fièvre à 38,5 °C. Die Ärztin prüfte die Größe."
JAPANESE = "患者は午前中に抗生物質を投与され、容体は安定しています。"


def full_text(doc: ParsedDocument) -> str:
    return "\n".join(section.text for section in doc.sections)


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_pages_keep_their_numbers_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "discharge.pdf"
    path.write_bytes(
        make_pdf(
            [
                ["Discharge summary", "Patient admitted with pneumonia."],
                None,
                ["Potassium was 5.9 mmol/L on day three.", "Ärztin: Dr. Größe"],
            ],
            title="Discharge Summary 2024",
        )
    )
    doc = parse(path)
    assert doc.format == "pdf"
    assert doc.page_count == 3
    assert doc.title == "Discharge Summary 2024"
    assert [(s.page, s.label) for s in doc.sections] == [(1, "Page 1"), (3, "Page 3")]
    assert "pneumonia" in doc.sections[0].text
    assert "Potassium was 5.9 mmol/L" in doc.sections[1].text
    assert "Ärztin: Dr. Größe" in doc.sections[1].text
    assert "\r" not in full_text(doc)
    assert any("page 2" in warning for warning in doc.warnings)


def test_pdf_rejoins_words_split_at_line_ends_only_when_known(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    lines = ["The patient needs treat-", "ment for COVID-", "19, an ever-", "changing    plan."]
    path.write_bytes(make_pdf([lines, ["Treatment starts today."]]))
    doc = parse(path)
    # "treatment" occurs elsewhere in the document, "everchanging" does not.
    assert "The patient needs treatment for COVID-19, an ever-changing plan." in doc.sections[0].text


def test_pdf_of_blank_pages_is_refused_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.pdf"
    path.write_bytes(make_pdf([None, None]))
    with pytest.raises(EmptyDocument, match="no text: no page has a text layer"):
        parse(path)


def test_random_bytes_named_pdf_is_a_pdf_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(random.Random(7).randbytes(4096))
    with pytest.raises(ParseError, match="PDF") as caught:
        parse(path)
    assert not isinstance(caught.value, UnsupportedFormat)


def test_truncated_pdf_is_a_pdf_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(make_pdf([["Some text"]])[:60])
    with pytest.raises(ParseError, match="PDF"):
        parse(path)


@needs_data
def test_encrypted_pdf_needs_the_right_password() -> None:
    path = EXAMPLES / "pdf" / "password.pdf"
    with pytest.raises(PasswordRequired, match="password required"):
        parse(path)
    assert "File with password" in full_text(parse(path, password="password"))
    with pytest.raises(PasswordRequired, match="wrong password"):
        parse(path, password="not-the-password")


# --- Word ---------------------------------------------------------------------------------------


def test_docx_keeps_paragraphs_tables_headers_in_document_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Ward 7 handover"
    document.sections[0].header.paragraphs[0].text = "CONFIDENTIAL - Ward 7"
    document.sections[0].footer.paragraphs[0].text = "Printed by the night nurse"
    document.add_heading("Medication", level=1)
    document.add_paragraph("Before the table: check allergies.")
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, [("Drug", "Dose", "Route"), ("Amoxicillin", "500 mg", "oral")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("After the table: recheck at 18:00.")
    document.add_page_break()
    document.add_section()  # a second section whose header is linked to the first
    document.add_paragraph("Second section text.")
    path = tmp_path / "handover.docx"
    document.save(path)

    doc = parse(path)
    text = full_text(doc)
    assert doc.format == "docx"
    assert doc.title == "Ward 7 handover"
    assert len(doc.sections) == 1 and doc.sections[0].page is None
    assert "Drug | Dose | Route\nAmoxicillin | 500 mg | oral" in text
    order = [text.index(s) for s in ("Medication", "Before the table", "Amoxicillin", "After the table")]
    assert order == sorted(order)
    assert text.count("CONFIDENTIAL - Ward 7") == 1
    assert text.count("Printed by the night nurse") == 1


def test_docx_reads_text_boxes_once_and_skips_deleted_revisions(tmp_path: Path) -> None:
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    paragraph = document.add_paragraph("Visible paragraph.")
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    paragraph._p.append(
        parse_xml(f'<w:del {w} w:id="1" w:author="a"><w:r><w:delText>REMOVED</w:delText></w:r></w:del>')
    )
    box = (
        f'<w:r {w} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent>'
        '<mc:Choice Requires="wps"><wps:txbx><w:txbxContent><w:p><w:r><w:t>Boxed fact 42</w:t>'
        "</w:r></w:p></w:txbxContent></wps:txbx></mc:Choice><mc:Fallback><v:textbox><w:txbxContent>"
        "<w:p><w:r><w:t>Boxed fact 42</w:t></w:r></w:p></w:txbxContent></v:textbox></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    document.add_paragraph()._p.append(parse_xml(box))
    path = tmp_path / "boxes.docx"
    document.save(path)

    text = full_text(parse(path))
    assert "Visible paragraph." in text
    assert "REMOVED" not in text
    assert text.count("Boxed fact 42") == 1


def test_empty_docx_is_empty(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(path)
    with pytest.raises(EmptyDocument):
        parse(path)


def test_legacy_doc_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "letter.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "WordDocument\x00".encode("utf-16-le"))
    with pytest.raises(UnsupportedFormat, match=r"\.docx"):
        parse(path)


def test_doc_renamed_docx_is_recognised_by_content(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "WordDocument\x00".encode("utf-16-le"))
    with pytest.raises(UnsupportedFormat, match=r"really a \.doc.*\.docx"):
        parse(path)


def test_damaged_docx_is_a_word_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<not xml")
    with pytest.raises(ParseError, match="malformed Word file"):
        parse(path)


# --- Excel --------------------------------------------------------------------------------------


def test_xlsx_gives_one_section_per_non_empty_sheet(tmp_path: Path) -> None:
    import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    vitals = workbook.active
    vitals.title = "Vitals"
    vitals.append(["Time", "Pulse", "Temp"])
    vitals.append([datetime.datetime(2024, 3, 1, 8, 0), 88, 37.2])
    vitals.append([None, None, None])
    vitals.append(["night", 101.0, 0.1 + 0.2])
    workbook.create_sheet("Empty")
    labs = workbook.create_sheet("Q1 labs")
    labs["B2"] = "Creatinine"
    labs["C2"] = "1.9 mg/dL"
    labs["B3"] = True
    path = tmp_path / "ward.xlsx"
    workbook.save(path)

    doc = parse(path)
    assert doc.format == "xlsx"
    assert doc.page_count == 3
    assert [(s.page, s.label) for s in doc.sections] == [(1, "Sheet 'Vitals'"), (3, "Sheet 'Q1 labs'")]
    assert doc.sections[0].text == "Time | Pulse | Temp\n2024-03-01 08:00:00 | 88 | 37.2\nnight | 101 | 0.3"
    assert "Creatinine | 1.9 mg/dL" in doc.sections[1].text
    assert "TRUE" in doc.sections[1].text


def test_xlsx_caps_huge_sheets_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    from app.core.ingest.parsers import office

    monkeypatch.setattr(office, "MAX_SHEET_CELLS", 100)
    workbook = openpyxl.Workbook()
    for number in range(200):
        workbook.active.append([f"row {number}", number])
    path = tmp_path / "big.xlsx"
    workbook.save(path)

    doc = parse(path)
    assert "row 49 | 49" in doc.sections[0].text
    assert "row 51" not in doc.sections[0].text
    assert any("more than 100 cells" in warning for warning in doc.warnings)


def test_empty_workbook_is_empty(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(EmptyDocument):
        parse(path)


def test_encrypted_office_file_needs_a_password(tmp_path: Path) -> None:
    path = tmp_path / "salaries.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "EncryptedPackage\x00".encode("utf-16-le"))
    with pytest.raises(PasswordRequired, match="password required.*Excel"):
        parse(path)


# --- PowerPoint ---------------------------------------------------------------------------------


def test_pptx_slides_groups_tables_and_notes(tmp_path: Path) -> None:
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    first = presentation.slides.add_slide(presentation.slide_layouts[1])
    first.shapes.title.text = "Sepsis bundle"
    first.placeholders[1].text = "Lactate within one hour"
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Audit results"
    group = second.shapes.add_group_shape()
    inner = group.shapes.add_group_shape()
    inner.shapes.add_textbox(Inches(1), Inches(1), Inches(2), Inches(1)).text_frame.text = "Nested fact 7731"
    rows = second.shapes.add_table(2, 2, Inches(1), Inches(3), Inches(4), Inches(1)).table
    rows.cell(0, 0).text, rows.cell(0, 1).text = "Month", "Compliance"
    rows.cell(1, 0).text, rows.cell(1, 1).text = "March", "92%"
    second.notes_slide.notes_text_frame.text = "Mention the night shift."
    path = tmp_path / "audit.pptx"
    presentation.save(path)

    doc = parse(path)
    assert doc.format == "pptx"
    assert doc.page_count == 2
    assert [(s.page, s.label) for s in doc.sections] == [(1, "Slide 1"), (2, "Slide 2")]
    assert doc.sections[0].text == "Sepsis bundle\nLactate within one hour"
    slide = doc.sections[1].text
    assert slide.startswith("Audit results")
    assert "Nested fact 7731" in slide
    assert "Month | Compliance\nMarch | 92%" in slide
    assert "Notes: Mention the night shift." in slide


def test_malformed_pptx_is_a_powerpoint_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pptx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "garbage")
    with pytest.raises(ParseError, match="malformed PowerPoint file"):
        parse(path)


# --- HTML ---------------------------------------------------------------------------------------

PAGE = (
    "<html><head><title>Clinic — Öffnungszeiten</title><style>p {{color: red}}</style>"
    "<script>var secret = 'SCRIPT TEXT';</script></head><body>"
    "<h1>Öffnungszeiten</h1><p>Montag bis Freitag, {fact}.</p>"
    "<div style='display: none'>HIDDEN TEXT</div><noscript>NOSCRIPT TEXT</noscript>"
    "<table><tr><th>Tag</th><th>Zeit</th></tr><tr><td><p>Samstag</p></td><td>9–12 Uhr</td></tr></table>"
    "<ul><li>erste</li><li>zweite</li></ul></body></html>"
)


@pytest.mark.parametrize(
    ("encoding", "declare"),
    [("utf-8", False), ("utf-16", False), ("cp1252", False), ("cp1252", True), ("utf-8", True)],
)
def test_html_text_title_tables_and_encodings(tmp_path: Path, encoding: str, declare: bool) -> None:
    markup = PAGE.format(fact="Größe der Praxis: 120 m²").replace("—", "-").replace("–", "-")
    if declare:
        markup = markup.replace("<head>", f'<head><meta charset="{encoding}">')
    path = tmp_path / "page.html"
    path.write_bytes(markup.encode(encoding))

    doc = parse(path)
    text = full_text(doc)
    assert doc.format == "html"
    assert doc.title == "Clinic - Öffnungszeiten"
    assert "Montag bis Freitag, Größe der Praxis: 120 m²." in text
    assert "Tag | Zeit\nSamstag | 9-12 Uhr" in text
    assert "erste\nzweite" in text
    for hidden in ("SCRIPT TEXT", "HIDDEN TEXT", "NOSCRIPT TEXT", "color: red"):
        assert hidden not in text


def test_html_financial_cells_are_joined(tmp_path: Path) -> None:
    path = tmp_path / "10k.htm"
    path.write_text("<table><tr><td>Net loss</td><td>$</td><td>(1,234</td><td>)</td></tr></table>", encoding="utf-8")
    assert parse(path).sections[0].text == "Net loss | $(1,234)"


# --- plain text, Markdown, CSV ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "encoding"),
    [
        (FRENCH, "utf-8"),
        (FRENCH, "utf-8-sig"),
        (FRENCH, "utf-16"),
        (FRENCH, "utf-16-le"),
        (FRENCH, "cp1252"),
        (JAPANESE, "shift_jis"),
        (JAPANESE, "utf-16"),
    ],
)
def test_text_encodings_decode_correctly(tmp_path: Path, sentence: str, encoding: str) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(sentence.encode(encoding))
    doc = parse(path)
    assert doc.format == "text"
    assert doc.sections[0].text == sentence


def test_markdown_keeps_its_text_and_format(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_bytes("# Plan\n\n- Röntgen Thorax\n- Labor: CRP\n".encode("cp1252"))
    doc = parse(path)
    assert doc.format == "markdown"
    assert doc.sections[0].text == "# Plan\n\n- Röntgen Thorax\n- Labor: CRP"


@pytest.mark.parametrize(("name", "body"), [("rates.csv", "a;b;c\n1;2;3\n"), ("rates.tsv", "a\tb\tc\n1\t2\t3\n")])
def test_csv_and_tsv_rows(tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / name
    delimiter = "\t" if name.endswith(".tsv") else ";"
    path.write_text(body + delimiter * 2 + "\n", encoding="utf-8")
    doc = parse(path)
    assert doc.format == "csv"
    assert doc.sections[0].text == "a | b | c\n1 | 2 | 3"


def test_csv_shift_jis(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_bytes("名前,年齢,住所\n佐藤太郎,30,東京\n三木英子,25,大阪\n".encode("shift_jis"))
    assert parse(path).sections[0].text == "名前 | 年齢 | 住所\n佐藤太郎 | 30 | 東京\n三木英子 | 25 | 大阪"


def test_text_hygiene(tmp_path: Path) -> None:
    path = tmp_path / "dirty.txt"
    decomposed = "Cafe\u0301"  # "Café" with a combining accent
    path.write_text(f"{decomposed}\x00 ok\x07\r\n\r\n\r\n\r\n\r\nnext\x0cpage\ttab  \n", encoding="utf-8")
    text = parse(path).sections[0].text
    assert text == "Café ok\n\nnext\npage\ttab"


def test_empty_and_whitespace_files_are_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.md"
    blank.write_bytes(b" \n\t\n")
    for path in (empty, blank):
        with pytest.raises(EmptyDocument):
            parse(path)


def test_binary_named_txt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(random.Random(3).randbytes(2048))
    with pytest.raises(ParseError, match="not a text file"):
        parse(path)


# --- e-mail -------------------------------------------------------------------------------------


def test_eml_headers_plain_body_and_attachment_names(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Émile Roux <roux@example.org>"
    message["To"] = "ward7@example.org"
    message["Date"] = "Tue, 01 Oct 2024 12:34:56 +0200"
    message["Subject"] = "Résultats: INR 3.4"
    message.set_content("INR is 3.4, hold warfarin tonight.")
    message.add_alternative("<p>HTML copy of the body</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="labs.pdf")
    message.add_attachment(b"xx", maintype="application", subtype="octet-stream", filename="chart.xlsx")
    path = tmp_path / "inr.eml"
    path.write_bytes(message.as_bytes(policy=email.policy.default))

    doc = parse(path)
    assert doc.format == "email"
    assert doc.title == "Résultats: INR 3.4"
    assert doc.sections[0].text == (
        "From: Émile Roux <roux@example.org>\nTo: ward7@example.org\n"
        "Date: Tue, 01 Oct 2024 12:34:56 +0200\nSubject: Résultats: INR 3.4\n\n"
        "INR is 3.4, hold warfarin tonight.\n\nAttachments: labs.pdf, chart.xlsx"
    )


def test_eml_html_only_body_becomes_text(tmp_path: Path) -> None:
    path = tmp_path / "html.eml"
    path.write_bytes(
        b"From: a@example.org\r\nSubject: Rota\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n"
        b"<html><body><p>Nachtdienst f\xfcr M\xfcller</p><script>x()</script></body></html>\r\n"
    )
    assert "Nachtdienst für Müller" in parse(path).sections[0].text


def test_eml_saved_as_utf16_is_read(tmp_path: Path) -> None:
    path = tmp_path / "utf16.eml"
    path.write_bytes("From: a@example.org\nSubject: Bonjour\n\nÇa va très bien.\n".encode("utf-16"))
    doc = parse(path)
    assert doc.title == "Bonjour"
    assert "Ça va très bien." in doc.sections[0].text


def test_smime_encrypted_eml_is_refused_with_reason(tmp_path: Path) -> None:
    path = tmp_path / "secret.eml"
    path.write_bytes(
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Secret\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggFA\r\n"
    )
    with pytest.raises(EmptyDocument, match=r"encrypted e-mail \(S/MIME\)"):
        parse(path)


def test_empty_eml_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.eml"
    path.write_bytes(b"\r\n\r\n")
    with pytest.raises(EmptyDocument, match="empty e-mail"):
        parse(path)


# --- dispatch -----------------------------------------------------------------------------------


def test_content_wins_over_a_lying_suffix(tmp_path: Path) -> None:
    pdf_named_txt = tmp_path / "actually-a-pdf.txt"
    pdf_named_txt.write_bytes(make_pdf([["Sniffed content 314"]]))
    doc = parse(pdf_named_txt)
    assert doc.format == "pdf" and "Sniffed content 314" in doc.sections[0].text

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Workbook named pdf"
    xlsx_named_pdf = tmp_path / "sheet.pdf"
    workbook.save(xlsx_named_pdf)
    assert parse(xlsx_named_pdf).format == "xlsx"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("data.bin", b"\x00\x01\x02garbage", r"unsupported format: \.bin files are not supported"),
        ("noext", b"hello", "no extension"),
        ("photo.heic", b"\x00\x00\x00\x18ftypheic", "JPEG or PNG"),
        ("old.ppt", b"x", r"\.pptx"),
        ("bundle.7z", b"7z\xbc\xaf\x27\x1c", "extract"),
    ],
)
def test_unsupported_formats_say_what_to_do(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsupportedFormat, match=expected):
        parse(path)


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read file"):
        parse(tmp_path / "gone.pdf")


def test_supported_suffixes_and_is_supported() -> None:
    assert all(s.startswith(".") and s == s.lower() for s in SUPPORTED_SUFFIXES)
    for suffix in (".pdf", ".docx", ".xlsx", ".pptx", ".html", ".htm", ".md", ".txt", ".csv", ".tsv", ".eml"):
        assert suffix in SUPPORTED_SUFFIXES
    assert is_supported("Report.PDF")
    assert is_supported(Path("a/b/notes.md"))
    for suffix in (".msg", ".odt", ".ods", ".odp", ".rtf", ".epub", ".xls", ".zip", ".png", ".jpg", ".tiff"):
        assert suffix in SUPPORTED_SUFFIXES
    assert not is_supported("old.doc") or shutil.which("soffice")
    assert not is_supported("noext")


def test_importing_the_package_does_not_import_parsing_libraries() -> None:
    heavy = ["pypdfium2", "docx", "openpyxl", "pptx", "bs4", "lxml", "charset_normalizer", "PIL", "extract_msg",
             "xlrd", "msoffcrypto", "striprtf"]
    code = f"import sys, app.core.ingest.parsers; print([m for m in {heavy!r} if m in sys.modules])"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert result.stdout.strip() == "[]"


# --- the real-world files -----------------------------------------------------------------------


@pytest.mark.slow
@needs_data
def test_every_real_file_ingests_or_is_refused_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    rows = (INGESTION / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    paths = [INGESTION / row.split("\t")[0] for row in rows if row.strip()]
    assert len(paths) == 145

    outcomes: dict[str, ParsedDocument | ParseError] = {}
    failures: list[str] = []
    timings: list[tuple[float, str]] = []
    started = time.perf_counter()
    for path in paths:
        name = str(path.relative_to(INGESTION))
        before = time.perf_counter()
        try:
            doc = parse(path)
        except ParseError as error:
            outcomes[name] = error
            if not str(error).strip():
                failures.append(f"{name}: {type(error).__name__} with an empty message")
        except Exception as error:
            failures.append(f"{name}: escaped {type(error).__module__}.{type(error).__name__}: {error}")
        else:
            outcomes[name] = doc
            failures.extend(f"{name}: {problem}" for problem in _document_problems(doc))
        timings.append((time.perf_counter() - before, name))
    total = time.perf_counter() - started

    slowest = sorted(timings, reverse=True)[:5]
    with capsys.disabled():
        print(f"\nparsed {len(paths)} real files in {total:.1f} s; slowest:")
        for seconds, name in slowest:
            print(f"  {seconds:6.2f} s  {name}")
    failures.extend(f"{name}: took {seconds:.1f} s" for seconds, name in timings if seconds > 60)
    assert not failures, "\n".join(failures)

    def ok(name: str) -> ParsedDocument:
        outcome = outcomes[name]
        assert isinstance(outcome, ParsedDocument), f"{name}: {outcome!r}"
        return outcome

    def refused(name: str, kind: type[ParseError], pattern: str) -> None:
        outcome = outcomes[name]
        assert isinstance(outcome, kind), f"{name}: {outcome!r}"
        assert pattern in str(outcome), f"{name}: {outcome}"

    ex = "unstructured/example-docs/"
    md = "markitdown/packages/markitdown/tests/test_files/"
    refused(ex + "pdf/password.pdf", PasswordRequired, "password required")
    big = ok(ex + "pdf/DA-619p.pdf")
    assert big.page_count == 619
    assert len(big.sections) > 500
    assert all(s.label == f"Page {s.page}" for s in big.sections)
    assert "Lorem ipsum dolor sit amet" in full_text(ok(ex + "pdf/loremipsum-flat.pdf"))
    scan = ok(md + "MEDRPT-2024-PAT-3847_medical_report_scan.pdf")
    assert scan.page_count == 3 and "SEATTLE GENERAL HOSPITAL" in scan.sections[0].text
    assert "10-K" in full_text(ok(ex + "example-10k.html"))
    assert len(full_text(ok(ex + "handbook-872p.docx"))) > 500_000
    if not shutil.which("soffice"):
        refused(ex + "fake.doc", UnsupportedFormat, ".docx")
    refused(ex + "password_protected.xlsx", PasswordRequired, "password")
    refused(ex + "empty.xlsx", EmptyDocument, "empty")
    refused(md + "random.bin", UnsupportedFormat, ".bin")
    utf16 = full_text(ok(ex + "example-steelJIS-datasheet-utf-16.html"))
    assert "Chemical composition" in utf16 and "日本語" in utf16
    assert utf16 == full_text(ok(ex + "example-steelJIS-datasheet.html"))
    cp1252 = full_text(ok(ex + "fake-html-cp1252.html"))
    assert "Die schöne Frau" in cp1252 and "15,50 €" in cp1252 and "El niño" in cp1252
    assert "佐藤太郎 | 30 | 東京" in full_text(ok(md + "test_mskanji.csv"))
    assert "können" in full_text(ok(ex + "umlauts-non-utf8.md"))
    for name in ("fake-email.eml", "fake-email-utf-16-le.eml", "fake-email-malformed-encoding.eml"):
        mail = ok(ex + "eml/" + name)
        assert mail.title == "Test Email"
        assert "Roses are red" in full_text(mail)
    assert ok(ex + "eml/mime-word-encoded-subject.eml").title == "Simple email with ☸☿ Unicode subject"
    assert "Attachments: fake-attachment.txt" in full_text(ok(ex + "eml/fake-email-attachment.eml"))
    refused(ex + "eml/fake-encrypted.eml", EmptyDocument, "encrypted e-mail")
    refused(ex + "eml/empty.eml", EmptyDocument, "empty e-mail")
    assert "Red | Green | Blue" in full_text(ok(ex + "fake-power-point-table.pptx"))


def _document_problems(doc: ParsedDocument) -> list[str]:
    problems = []
    if not doc.sections or not full_text(doc).strip():
        problems.append("returned no text")
    for section in doc.sections:
        if not section.text.strip():
            problems.append(f"whitespace-only section {section.label}")
        if any(ch in section.text for ch in "\x00\r\x0b\x0c\ufeff"):
            problems.append(f"control characters left in {section.label}")
        if section.page is not None and doc.page_count is not None and not 1 <= section.page <= doc.page_count:
            problems.append(f"section page {section.page} outside 1..{doc.page_count}")
    return problems
